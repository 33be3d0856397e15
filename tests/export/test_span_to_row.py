"""A tool-call span becomes exactly one row, with every column right; other spans become none."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from enrichment_logs import semconv
from enrichment_logs.export.mapping import is_tool_call, span_to_row
from enrichment_logs.pricing.usage import Cost, Usage


def _utc_text(nanoseconds: int | None) -> str:
    assert nanoseconds is not None
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanoseconds // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_a_priced_openai_call_becomes_one_row_with_every_column_right(
    exporter, make_span, pricer, db_path, tool_call, table_rows, table_columns
):
    log_id = str(uuid.uuid4())
    span = make_span(
        "openai.chat",
        attributes=tool_call(
            **{
                semconv.LOG_ID: log_id,
                semconv.SESSION_ID: "session-9",
                semconv.GEN_AI_OPERATION_NAME: "chat",
                semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
                semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 200,
                semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
                semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 50,
                semconv.CREDITS: "2.5",
                semconv.REQUEST_DATA: '{"messages": [{"role": "user", "chars": 42}]}',
                semconv.RESPONSE_DATA: '{"choices": 1}',
                semconv.RETRY_COUNT: 2,
                semconv.CACHE_HIT: False,
                semconv.REQUEST_HASH: "sha256:abc",
                semconv.USAGE_EXTRA_PREFIX + "service_tier": "default",
                "http.response.status_code": 200,
            }
        ),
    )

    assert exporter.export([span]) is SpanExportResult.SUCCESS
    assert exporter.force_flush()

    (row,) = table_rows(db_path)
    assert list(row) == table_columns(db_path)
    assert row == {
        "id": uuid.UUID(log_id),
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "parent_span_id": None,
        "session_id": "session-9",
        "lead_id": "lead-1",
        "company_id": "acme",
        "provider": "openai",
        "operation": "chat.completions.create",
        "model": "gpt-4o-mini-2024-07-18",
        "request_data": '{"messages": [{"role": "user", "chars": 42}]}',
        "response_data": '{"choices": 1}',
        "tokens_used": 1500,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cached_input_tokens": 200,
        "cache_write_tokens": 0,
        "reasoning_tokens": 50,
        "credits": Decimal("2.5"),
        "cost": Decimal("0.0024"),
        "cost_source": "price_table",
        "currency": "USD",
        "price_version": "test-v1",
        "started_at": _utc_text(span.start_time),
        "completed_at": _utc_text(span.end_time),
        "duration_ms": ((span.end_time or 0) - (span.start_time or 0)) / 1e6,
        "status": "success",
        "error_type": None,
        "error_message": None,
        "retry_count": 2,
        "cache_hit": False,
        "cost_saved": None,
        "request_hash": "sha256:abc",
        "service_name": span.resource.attributes["service.name"],
        "attributes": row["attributes"],
    }
    # What has no column stays queryable; the alternatives not chosen are kept, not lost.
    assert json.loads(row["attributes"]) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.USAGE_EXTRA_PREFIX + "service_tier": "default",
        "http.response.status_code": 200,
    }
    ((provider, operation, usage, at),) = pricer.calls
    assert (provider, operation, usage.input_tokens, usage.cached_input_tokens) == (
        "openai",
        "chat.completions.create",
        1200,
        200,
    )
    assert at.strftime("%Y-%m-%dT%H:%M:%S.%f") == _utc_text(span.start_time)


def test_sessions_and_unrelated_spans_are_not_rows(exporter, make_span, db_path):
    session = make_span("session", attributes={semconv.SPAN_TYPE: "session"})
    http = make_span("GET /health", attributes={"http.request.method": "GET"})

    assert exporter.export([session, http]) is SpanExportResult.SUCCESS
    assert exporter.stats.rows_written == 0
    assert not db_path.exists()  # nothing to write, so the file is not even opened


def test_a_call_inside_a_session_records_its_parent_and_only_the_call_is_a_row(
    exporter, tracer, finished, db_path, tool_call, table_rows
):
    with (
        tracer.start_as_current_span("session", attributes={semconv.SPAN_TYPE: "session"}),
        tracer.start_as_current_span("exa.search", attributes=tool_call()),
    ):
        pass
    session = next(span for span in finished.get_finished_spans() if span.name == "session")

    exporter.export(finished.get_finished_spans())
    assert exporter.force_flush()

    (row,) = table_rows(db_path)
    assert row["parent_span_id"] == format(session.context.span_id, "016x")


def test_a_span_from_another_genai_instrumentation_is_a_row_named_by_its_conventions(
    make_span, pricer
):
    span = make_span(
        "chat gpt-4o",
        attributes={
            semconv.GEN_AI_PROVIDER_NAME: "openai",
            semconv.GEN_AI_OPERATION_NAME: "chat",
            semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
        },
    )

    assert is_tool_call(span.attributes)
    row = span_to_row(span, pricer)

    assert row is not None
    assert (row["provider"], row["operation"], row["model"]) == ("openai", "chat", "gpt-4o")
    assert row["tokens_used"] is None  # unknown, never 0
    assert (row["cost"], row["cost_source"]) == (None, "unknown")
    assert json.loads(str(row["attributes"]))["cost_reason"] == "no price for openai chat"


def test_a_cost_reported_by_the_provider_beats_the_price_table(make_span, pricer, tool_call):
    span = make_span(
        attributes=tool_call(
            **{
                semconv.PROVIDER: "exa",
                semconv.COST: "0.005",
                semconv.COST_SOURCE: "provider",
                semconv.PRICE_VERSION: "exa-2025-01",
            }
        )
    )

    row = span_to_row(span, pricer)

    assert row is not None
    assert (row["cost"], row["cost_source"], row["price_version"]) == (
        Decimal("0.0050000000"),
        "provider",
        "exa-2025-01",
    )
    assert pricer.calls == []


class _BrokenPricer:
    def price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost:
        raise RuntimeError("price table unreadable")


def test_a_pricer_that_raises_leaves_the_cost_unknown_with_the_reason(make_span, tool_call):
    row = span_to_row(make_span(attributes=tool_call()), _BrokenPricer())

    assert row is not None
    assert (row["cost"], row["cost_source"]) == (None, "unknown")
    reason = json.loads(str(row["attributes"]))["cost_reason"]
    assert reason == "pricer failed: RuntimeError: price table unreadable"


def test_a_failed_call_keeps_its_error_type_and_message(make_span, pricer, tool_call):
    span = make_span(
        "firecrawl.scrape",
        raises=TimeoutError("upstream timed out"),
        attributes=tool_call(**{semconv.ERROR_TYPE: "TimeoutError"}),
    )

    row = span_to_row(span, pricer)

    assert row is not None
    assert (row["status"], row["error_type"], row["error_message"]) == (
        "error",
        "TimeoutError",
        "TimeoutError: upstream timed out",
    )


def test_a_huge_error_message_is_capped_at_4_kb(make_span, pricer, tool_call):
    message = "é" * 5000  # 10 000 bytes of UTF-8
    row = span_to_row(make_span(attributes=tool_call(**{semconv.ERROR_MESSAGE: message})), pricer)

    assert row is not None
    assert str(row["error_message"]).encode() == ("é" * 2048).encode()
    invalid = json.loads(str(row["attributes"]))["invalid"]
    assert invalid == {"error_message": "truncated from 10000 bytes"}


def test_unusable_values_are_null_and_the_reason_is_kept(make_span, pricer, tool_call):
    span = make_span(
        attributes=tool_call(
            **{
                semconv.GEN_AI_USAGE_INPUT_TOKENS: -5,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: float("nan"),
                semconv.LEAD_ID: "lead-\udc80",
                semconv.REQUEST_DATA: "{not json",
                semconv.RESPONSE_DATA: '{"text": "\\ud800"}',
                semconv.COST: "1e12",
                semconv.COST_SOURCE: "override",
                semconv.RETRY_COUNT: "twice",
                semconv.CACHE_HIT: "yes",
                semconv.STATUS: "maybe",
                semconv.LOG_ID: "not-a-uuid",
                "custom.ratio": float("inf"),
            }
        )
    )

    row = span_to_row(span, pricer)

    assert row is not None
    nulls = ("input_tokens", "output_tokens", "tokens_used", "lead_id", "request_data")
    assert all(row[column] is None for column in (*nulls, "response_data", "cost"))
    assert (row["retry_count"], row["cache_hit"], row["status"]) == (0, False, "success")
    assert row["id"] == str(
        uuid.uuid5(
            uuid.UUID("6f1d3c55-1b1e-4c53-9a3e-2a4f8e0c7d21"), f"{row['trace_id']}-{row['span_id']}"
        )
    )
    attributes = json.loads(str(row["attributes"]))
    assert attributes["custom.ratio"] is None
    assert set(attributes["invalid"]) == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
        semconv.LEAD_ID,
        semconv.REQUEST_DATA,
        semconv.RESPONSE_DATA,
        semconv.COST,
        semconv.RETRY_COUNT,
        semconv.CACHE_HIT,
        semconv.STATUS,
        semconv.LOG_ID,
        "custom.ratio",
    }


def test_the_same_span_always_maps_to_the_same_id(make_span, pricer, tool_call):
    span = make_span(attributes=tool_call())
    copy = ReadableSpan(
        name=span.name,
        context=span.context,
        resource=span.resource,
        attributes=dict(span.attributes or {}),
        start_time=span.start_time,
        end_time=span.end_time,
    )

    first, second = span_to_row(span, pricer), span_to_row(copy, pricer)

    assert first is not None
    assert second is not None
    assert first["id"] == second["id"]


def test_a_failed_call_that_reported_no_usage_has_an_unknown_cost_not_a_guessed_one(
    make_span, pricer
):
    span = make_span(
        raises=PermissionError("403"),
        attributes={semconv.SPAN_TYPE: "tool_call", semconv.PROVIDER: "firecrawl"},
    )

    row = span_to_row(span, pricer)

    assert row is not None
    assert (row["status"], row["cost"], row["cost_source"]) == ("error", None, "unknown")
    assert json.loads(str(row["attributes"]))["cost_reason"] == (
        "the call failed and reported no usage"
    )
    assert pricer.calls == []


def test_a_total_token_count_without_its_split_is_kept(make_span, pricer):
    span = make_span(
        attributes={
            semconv.SPAN_TYPE: "tool_call",
            semconv.PROVIDER: "openai",
            semconv.USAGE_EXTRA_PREFIX + "tokens_used": 321,
        }
    )

    row = span_to_row(span, pricer)

    assert row is not None
    assert (row["tokens_used"], row["input_tokens"], row["output_tokens"]) == (321, None, None)
