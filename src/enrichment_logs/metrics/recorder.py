"""`RowMetrics`: the metrics of each priced row, recorded in the exporter's thread.

Metrics are derived from the rows themselves, the same values the `enrichment_logs` table gets
(the span attributes after mapping and pricing), so a Grafana panel on Prometheus and a SQL query
on DuckDB count the same calls and sum the same cost: the cost counter adds exactly the `cost`
column, and a call of unknown cost adds nothing (unknown is never 0). Recording happens where
the rows are priced, off the pipeline's thread: one measurement costs several microseconds,
which the pipeline should not pay per call. Counters are summed per label set within a batch
before they are added.

What the GenAI semantic conventions ask of their two histograms:
- `gen_ai.client.operation.duration` for every call that reached the provider (status success
  or error; a call served from cache or refused by a budget or breaker has no provider latency),
  with `error.type` on errors (`_OTHER` when the error named no type).
- `gen_ai.client.token.usage` for successful calls that reported tokens, once for input and once
  for output tokens (a failed call's tokens are not recorded, a reported 0 is).
- `gen_ai.request.model` is the model the call asked for, or the only model the call named;
  `gen_ai.response.model` is the response's model when the call named both.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_TOKEN_TYPE
from opentelemetry.util.types import AttributeValue

from enrichment_logs import semconv
from enrichment_logs.metrics import instruments
from enrichment_logs.tracing.tool_call import semconv_operation

_REACHED_PROVIDER = frozenset({"success", "error"})
_OTHER_ERROR = "_OTHER"

Labels = tuple[tuple[str, str], ...]


class RowMetrics:
    """A row listener for `DuckDBSpanExporter`: records each batch's metrics."""

    def __call__(self, rows: Sequence[Mapping[str, object]]) -> None:
        calls: Counter[Labels] = Counter()
        retries: Counter[Labels] = Counter()
        costs: defaultdict[Labels, Decimal] = defaultdict(Decimal)
        for row in rows:
            labels = _labels(row)
            calls[labels] += 1
            retry_count = row.get("retry_count")
            if isinstance(retry_count, int) and retry_count > 0:
                retries[labels] += retry_count
            cost = row.get("cost")
            if isinstance(cost, Decimal):
                costs[labels] += cost
            _record_genai(row)
        for labels, count in calls.items():
            instruments.calls.add(count, dict(labels))
        for labels, count in retries.items():
            instruments.retries.add(count, dict(labels))
        for labels, amount in costs.items():
            instruments.cost.add(float(amount), dict(labels))


def _labels(row: Mapping[str, object]) -> Labels:
    """provider, operation, model and status, as the row has them (no model: no label)."""
    return tuple(
        (label, value)
        for label in instruments.LABELS
        if isinstance(value := row.get(label), str) and value
    )


def _record_genai(row: Mapping[str, object]) -> None:
    status = row.get("status")
    if status not in _REACHED_PROVIDER:
        return
    attributes = _genai_attributes(row)
    duration_ms = row.get("duration_ms")
    if isinstance(duration_ms, int | float):
        if status == "error":
            error_type = row.get("error_type")
            attributes[semconv.ERROR_TYPE] = (
                error_type if isinstance(error_type, str) else _OTHER_ERROR
            )
        instruments.operation_duration.record(duration_ms / 1000, attributes)
    if status != "success":
        return
    for token_type, column in (("input", "input_tokens"), ("output", "output_tokens")):
        tokens = row.get(column)
        if isinstance(tokens, int):
            instruments.token_usage.record(tokens, {**attributes, GEN_AI_TOKEN_TYPE: token_type})


def _genai_attributes(row: Mapping[str, object]) -> dict[str, AttributeValue]:
    """The conventions' attributes of a call, rebuilt from its row."""
    attributes: dict[str, AttributeValue] = {
        semconv.GEN_AI_OPERATION_NAME: semconv_operation(str(row.get("operation"))),
        semconv.GEN_AI_PROVIDER_NAME: str(row.get("provider")),
    }
    model = row.get("model")
    if isinstance(model, str):
        requested = _requested_model(row)
        if requested is not None:
            attributes[semconv.GEN_AI_REQUEST_MODEL] = requested
            attributes[semconv.GEN_AI_RESPONSE_MODEL] = model
        else:
            attributes[semconv.GEN_AI_REQUEST_MODEL] = model
    return attributes


def _requested_model(row: Mapping[str, object]) -> str | None:
    """The requested model when the row's `model` is the response's: the mapping keeps the
    request model in the row's `attributes` JSON then (`model` takes the response model first)."""
    text = row.get("attributes")
    if not isinstance(text, str) or semconv.GEN_AI_REQUEST_MODEL not in text:
        return None
    requested = json.loads(text).get(semconv.GEN_AI_REQUEST_MODEL)
    return requested if isinstance(requested, str) else None
