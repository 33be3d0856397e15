"""One tool-call span becomes one `enrichment_logs` row; everything else becomes nothing.

Pure and I/O-free so every shape of deployment (embedded exporter, `enrichment-logs ingest`,
DuckLake) maps spans the same way. Spans reach us from our own instrumentation and from any other
instrumentation in the process, so no attribute value is trusted: a value of the wrong type, NaN,
negative, out of the column's range or not valid UTF-8 is stored as NULL and its reason is kept in
the row's `attributes` JSON under `"invalid"`. Nothing a span carries can make `span_to_row` raise.

Row ids make replay harmless: `enrichment.log_id` when it is a UUID, otherwise a UUID derived from
the trace and span ids, so exporting the same span twice (a replayed spool segment, a second
worker) produces the same primary key and the store keeps one row.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import Final

import orjson
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from enrichment_logs import semconv
from enrichment_logs.pricing.call_cost import call_cost
from enrichment_logs.pricing.usage import Cost, Pricer, Usage, to_decimal

_ID_NAMESPACE: Final = uuid.UUID("6f1d3c55-1b1e-4c53-9a3e-2a4f8e0c7d21")
"""Namespace of ids derived from trace and span ids; changing it would duplicate replayed rows."""
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

MAX_ERROR_MESSAGE_BYTES: Final = 4096

# Ranges of the table's DECIMAL and INTEGER columns (schema/001_enrichment_logs.sql): a value
# outside them would make the whole batch fail to insert, so it becomes NULL with a reason here.
_COST_LIMIT: Final = Decimal("1e8")
_COST_QUANTUM: Final = Decimal("1e-10")
_CREDITS_LIMIT: Final = Decimal("1e12")
_CREDITS_QUANTUM: Final = Decimal("1e-6")
_INTEGER_MAX: Final = 2**31 - 1
_BIGINT_MAX: Final = 2**63 - 1
_JSON_INT_RANGE: Final = (-(2**63), 2**64)
"""Integers DuckDB's JSON reads exactly (int64 and uint64); larger ones would lose digits."""
_DECIMAL_CONTEXT: Final = Context(prec=40)

_STATUSES: Final = frozenset({"success", "error", "cached", "rejected"})
_COST_SOURCES: Final = frozenset({"provider", "price_table", "override", "unknown"})
_MAX_JSON_DEPTH: Final = 32
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_USAGE_ATTRIBUTES: Final = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    semconv.CREDITS,
    semconv.COST,
    semconv.COST_SOURCE,
    semconv.COST_CURRENCY,
    semconv.PRICE_VERSION,
)
"""Attributes whose content lives in the usage and cost columns, never in `attributes`."""


def is_tool_call(attributes: Mapping[str, object] | None) -> bool:
    """Whether a span is one paid call. Runs on the pipeline's thread, so it only looks up keys.

    Spans from other GenAI instrumentations have no `enrichment.span.type`; their provider name
    marks them as calls. Our session spans carry a span type and are never rows.
    """
    if attributes is None:  # `.get` answers for an empty mapping: no length asked, one call less
        return False
    span_type = attributes.get(semconv.SPAN_TYPE)
    if span_type is None:
        return semconv.GEN_AI_PROVIDER_NAME in attributes
    return span_type == "tool_call"


def span_to_row(span: ReadableSpan, pricer: Pricer) -> dict[str, object] | None:
    """The row for a tool-call span (keys are the table's columns), or None for any other span."""
    attributes: dict[str, object] = dict(span.attributes or {})
    try:
        plain_keys = "".join(attributes).isascii()  # one C call; a key that is no str raises
    except TypeError:
        plain_keys = False
    if not plain_keys:
        attributes = {_safe_key(key): value for key, value in attributes.items()}
    if not is_tool_call(attributes):
        return None
    return _RowBuilder(span, attributes).build(pricer)


class _RowBuilder:
    """Reads attributes once each, remembering which it used and which were unusable."""

    def __init__(self, span: ReadableSpan, attributes: dict[str, object]) -> None:
        self._span = span
        self._attributes = attributes
        self._used: set[str] = {semconv.SPAN_TYPE, *_USAGE_ATTRIBUTES}
        self.invalid: dict[str, str] = {}

    def build(self, pricer: Pricer) -> dict[str, object]:
        span = self._span
        self._reasons_from_the_call()
        usage = _read_usage(self._attributes)
        self.invalid.update(usage.invalid)
        trace_id, span_id = self._ids()
        started_at, completed_at, duration_ms = self._times()
        provider = self.text(semconv.PROVIDER, semconv.GEN_AI_PROVIDER_NAME)
        if provider is None:
            self.invalid.setdefault("provider", "missing")
        operation = self.text(semconv.OPERATION, semconv.GEN_AI_OPERATION_NAME)
        if operation is None:
            operation = _clean_text(span.name) or "unknown"
        status = self._status()
        cost = self._cost(pricer, usage, started_at, status)
        credits = _bounded_decimal(
            usage.credits, _CREDITS_LIMIT, _CREDITS_QUANTUM, semconv.CREDITS, self.invalid
        )
        row: dict[str, object] = {
            "id": self._log_id(trace_id, span_id),
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": _hex(span.parent.span_id, 16) if span.parent else None,
            "session_id": self.text(semconv.SESSION_ID, ids=True),
            "lead_id": self.text(semconv.LEAD_ID, ids=True),
            "company_id": self.text(semconv.COMPANY_ID, ids=True),
            "provider": provider or "unknown",
            "operation": operation,
            "model": self.text(semconv.GEN_AI_RESPONSE_MODEL, semconv.GEN_AI_REQUEST_MODEL),
            "request_data": self.json_text(semconv.REQUEST_DATA),
            "response_data": self.json_text(semconv.RESPONSE_DATA),
            "tokens_used": self._tokens_used(usage),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "credits": credits,
            "cost": cost.amount,
            "cost_source": cost.source,
            "currency": cost.currency,
            "price_version": cost.price_version,
            "started_at": started_at,
            "completed_at": completed_at,
            "duration_ms": duration_ms,
            "status": status,
            "error_type": self.text(semconv.ERROR_TYPE),
            "error_message": self._error_message(),
            "retry_count": self._retry_count(),
            "cache_hit": self._cache_hit(),
            "cost_saved": self._cost_saved(),
            "request_hash": self.text(semconv.REQUEST_HASH),
            "service_name": _clean_text(span.resource.attributes.get(SERVICE_NAME)),
        }
        row["attributes"] = self._remaining_json(cost.reason)
        return row

    # --- attribute readers -------------------------------------------------------------------
    def text(self, *keys: str, ids: bool = False) -> str | None:
        """The first usable string among `keys` (integers too for ids); others stay in JSON."""
        for key in keys:
            value = self._attributes.get(key)
            if value is None or value == "":
                continue
            self._used.add(key)
            if type(value) is str and value.isascii():  # what our own spans carry
                return value
            if ids and isinstance(value, int) and not isinstance(value, bool):
                if abs(value) <= _BIGINT_MAX:
                    return str(value)
                self._bad(key, "integer out of range")
            elif not isinstance(value, str):
                self._bad(key, f"wrong type: {type(value).__name__}")
            elif not _is_utf8(value):
                self._bad(key, "not valid UTF-8")
            else:
                return value
        return None

    def json_text(self, key: str) -> str | None:
        """A JSON document kept verbatim when both Python and DuckDB accept it."""
        text = self.text(key)
        if text is None:
            return None
        reason = _json_problem(text)
        if reason is None:
            return text
        self._bad(key, reason)
        return None

    def _bad(self, key: str, reason: str) -> None:
        self.invalid[key] = reason

    def _reasons_from_the_call(self) -> None:
        """Values the call itself refused (`record_usage`, the seed's API: `enrichment.invalid`,
        `"name: why"` items) join the mapping's own, so every reason is in one `invalid` object."""
        reported = self._attributes.get(semconv.INVALID)
        if reported is None:
            return
        self._used.add(semconv.INVALID)
        for item in reported if isinstance(reported, list | tuple) else [reported]:
            text = _clean_text(item) or ""
            name, separator, why = text.partition(": ")
            if separator:
                self.invalid[name] = why
            else:
                self._bad(semconv.INVALID, "unreadable")

    # --- columns -----------------------------------------------------------------------------
    def _ids(self) -> tuple[str, str]:
        context = self._span.context
        if context is None:
            self.invalid["span_context"] = "missing"
            return "0" * 32, "0" * 16
        return _hex(context.trace_id, 32), _hex(context.span_id, 16)

    def _log_id(self, trace_id: str, span_id: str) -> str:
        """The row id as a canonical UUID string. Our own ids are canonical already, and a
        pattern match costs a fifth of parsing them into a `uuid.UUID`."""
        value = self._attributes.get(semconv.LOG_ID)
        if value is not None:
            self._used.add(semconv.LOG_ID)
            if type(value) is str and _CANONICAL_UUID.fullmatch(value):
                return value
            if isinstance(value, str):
                try:
                    return str(uuid.UUID(value))
                except ValueError:
                    pass
            self._bad(semconv.LOG_ID, "not a UUID")
        if self._span.context is None:
            return str(uuid.uuid4())  # nothing identifies this span: no replay can be recognised
        return str(uuid.uuid5(_ID_NAMESPACE, f"{trace_id}-{span_id}"))

    def _times(self) -> tuple[datetime, datetime, float]:
        start = _timestamp(self._span.start_time)
        end = _timestamp(self._span.end_time)
        if start is None:
            self.invalid["started_at"] = "missing or out of range"
        if end is None:
            self.invalid["completed_at"] = "missing or out of range"
        started_at = start or end or datetime.now(UTC)
        completed_at = end or started_at
        if start is not None and end is not None:  # nanosecond precision when both are known
            nanoseconds = (self._span.end_time or 0) - (self._span.start_time or 0)
            return started_at, completed_at, nanoseconds / 1e6
        return started_at, completed_at, (completed_at - started_at) / timedelta(milliseconds=1)

    def _cost(self, pricer: Pricer, usage: Usage, at: datetime, status: str) -> Cost:
        """The shared cost rule (`call_cost`), made safe for the table's DECIMAL column."""
        cost = call_cost(self._attributes, usage, status, pricer, at, self.invalid)
        amount = _bounded_decimal(
            to_decimal(cost.amount, semconv.COST, self.invalid),
            _COST_LIMIT,
            _COST_QUANTUM,
            semconv.COST,
            self.invalid,
        )
        source = cost.source if amount is not None and cost.source in _COST_SOURCES else "unknown"
        return Cost(
            amount=amount,
            source=source,
            price_version=_clean_text(cost.price_version),
            currency=_clean_text(cost.currency) or "USD",
            reason=cost.reason if isinstance(cost.reason, str) else None,
        )

    def _tokens_used(self, usage: Usage) -> int | None:
        """Input + output; else the total alone, which `complete_enrichment_log` may report."""
        total = usage.total_tokens
        if total is None and self._attributes.get(semconv.TOKENS_USED) is not None:
            self._used.add(semconv.TOKENS_USED)
            total = self._count(semconv.TOKENS_USED)
        if total is not None and not 0 <= total <= _BIGINT_MAX:
            self.invalid["tokens_used"] = "out of range"
            return None
        return total

    def _status(self) -> str:
        value = self._attributes.get(semconv.STATUS)
        if value is not None:
            self._used.add(semconv.STATUS)
            if isinstance(value, str) and value in _STATUSES:
                return value
            self._bad(semconv.STATUS, "not one of " + ", ".join(sorted(_STATUSES)))
        return "error" if self._span.status.status_code is StatusCode.ERROR else "success"

    def _error_message(self) -> str | None:
        message = self.text(semconv.ERROR_MESSAGE) or _clean_text(self._span.status.description)
        if message is None:
            return None
        encoded = message.encode("utf-8")
        if len(encoded) <= MAX_ERROR_MESSAGE_BYTES:
            return message
        self.invalid["error_message"] = f"truncated from {len(encoded)} bytes"
        return encoded[:MAX_ERROR_MESSAGE_BYTES].decode("utf-8", "ignore")

    def _retry_count(self) -> int:
        if self._attributes.get(semconv.RETRY_COUNT) is None:
            return 0
        self._used.add(semconv.RETRY_COUNT)
        count = self._count(semconv.RETRY_COUNT)
        if count is not None and count > _INTEGER_MAX:
            self._bad(semconv.RETRY_COUNT, "out of range")
            return 0
        return count or 0

    def _count(self, key: str) -> int | None:
        """A non-negative whole number (an integral float too), else None and the reason."""
        value = self._attributes.get(key)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad(key, f"wrong type: {type(value).__name__}")
            return None
        if value < 0:
            self._bad(key, "negative")
            return None
        return value

    def _cost_saved(self) -> Decimal | None:
        """A cache hit's saving: the cost of the call that fetched the response."""
        if self._attributes.get(semconv.COST_SAVED) is None:
            return None
        self._used.add(semconv.COST_SAVED)
        saved = to_decimal(self._attributes[semconv.COST_SAVED], semconv.COST_SAVED, self.invalid)
        return _bounded_decimal(saved, _COST_LIMIT, _COST_QUANTUM, semconv.COST_SAVED, self.invalid)

    def _cache_hit(self) -> bool:
        value = self._attributes.get(semconv.CACHE_HIT)
        if value is None:
            return False
        self._used.add(semconv.CACHE_HIT)
        if isinstance(value, bool):
            return value
        self._bad(semconv.CACHE_HIT, f"wrong type: {type(value).__name__}")
        return False

    def _remaining_json(self, cost_reason: str | None) -> str:
        remaining: dict[str, object] = {}
        for key, value in self._attributes.items():
            if key not in self._used:
                if value is None:  # the SDK keeps the key of a value it could not take
                    self.invalid.setdefault(key, "no value: the tracer refused its type")
                remaining[key] = _jsonable(value, key, self.invalid, 0)
        if cost_reason:
            remaining["cost_reason"] = _clean_text(cost_reason) or "not valid UTF-8"
        if self.invalid:
            remaining["invalid"] = dict(self.invalid)
        return orjson.dumps(remaining).decode()


def _read_usage(attributes: Mapping[str, object]) -> Usage:
    """`Usage.from_attributes`, which must not take the row down if it ever raises."""
    try:
        return Usage.from_attributes(attributes)
    except Exception as exc:  # e.g. str() of an int too long to print, in a reason message
        return Usage(invalid={"usage": f"unreadable: {type(exc).__name__}"})


def _bounded_decimal(
    value: Decimal | None, limit: Decimal, quantum: Decimal, key: str, invalid: dict[str, str]
) -> Decimal | None:
    """A decimal that fits its DECIMAL column, rounded to the column's scale, or None."""
    if value is None:
        return None
    if value >= limit:
        invalid[key] = f"out of range: at least {limit}"
        return None
    return value.quantize(quantum, context=_DECIMAL_CONTEXT)


def _jsonable(value: object, key: str, invalid: dict[str, str], depth: int) -> object:
    """A JSON-safe copy of an attribute value; unstorable parts become null with a reason."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if _JSON_INT_RANGE[0] <= value < _JSON_INT_RANGE[1]:
            return value
        invalid[key] = "integer out of range"
    elif isinstance(value, float):
        if math.isfinite(value):
            return value
        invalid[key] = "not a finite number"
    elif isinstance(value, str):
        if _is_utf8(value):
            return value
        invalid[key] = "not valid UTF-8"
    elif depth >= _MAX_JSON_DEPTH:
        invalid[key] = "nested too deeply"
    elif isinstance(value, Mapping):
        return {_safe_key(k): _jsonable(v, key, invalid, depth + 1) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        return [_jsonable(item, key, invalid, depth + 1) for item in value]
    else:
        invalid[key] = f"wrong type: {type(value).__name__}"
    return None


def _json_problem(text: str) -> str | None:
    """Why DuckDB's JSON type would refuse `text`. orjson is as strict as DuckDB's reader where
    Python's own parser is lenient (NaN and Infinity, lone surrogates, escaped or not)."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON: {_decode_reason(str(exc))}"
    return None


def _decode_reason(message: str) -> str:
    """orjson's message without its position (`...: line 1 column 2 (char 1)`)."""
    return message.partition(": line ")[0]


def _timestamp(nanoseconds: object) -> datetime | None:
    if isinstance(nanoseconds, bool) or not isinstance(nanoseconds, int):
        return None
    try:
        return _EPOCH + timedelta(microseconds=nanoseconds // 1000)
    except OverflowError:
        return None


def _hex(value: object, width: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 16**width:
        return value.to_bytes(width // 2, "big").hex()  # a third of `format(value, "032x")`
    return "0" * width


def _clean_text(value: object) -> str | None:
    return value if isinstance(value, str) and value and _is_utf8(value) else None


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _safe_key(key: object) -> str:
    """Attribute keys as valid UTF-8 strings (foreign spans may carry anything)."""
    text = key if isinstance(key, str) else repr(key)
    return text if _is_utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")
