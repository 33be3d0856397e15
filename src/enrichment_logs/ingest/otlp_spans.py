"""OTLP spans to the SDK's `ReadableSpan`, so received spans take the exporter's own path.

`span_to_row` is the one span-to-row contract and it reads SDK spans; rebuilding each OTLP span
as the `ReadableSpan` the sending process had (resource, scope, attributes, events, links, status,
kind, times) means a row written here equals the row that process's own exporter would write.

Only tool-call spans are rebuilt: `is_tool_call` is the test `span_to_row` applies first, and the
other spans of a trace (sessions, HTTP client spans) would only be rebuilt to be thrown away. A
span whose trace or span id is missing or malformed is rejected on its own and counted, as OTLP's
partial success asks; the rest of the request goes on.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, SpanFlags
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope as SdkScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from enrichment_logs.export.mapping import is_tool_call

_TRACE_ID_BYTES: Final = 16
_SPAN_ID_BYTES: Final = 8
_PROBLEMS_SHOWN: Final = 3
"""Reasons quoted in a partial-success message; the count covers the rest."""
_IS_REMOTE: Final = SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_TRACE_FLAGS: Final = SpanFlags.SPAN_FLAGS_TRACE_FLAGS_MASK


@dataclass(slots=True)
class ReceivedSpans:
    """What a request carried: the tool calls to write, and what was rejected and why."""

    tool_calls: list[ReadableSpan] = field(default_factory=list)
    spans: int = 0
    """Every span in the request, tool call or not, rejected or not."""
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, span: Span, reason: str) -> None:
        self.rejected += 1
        if len(self.problems) < _PROBLEMS_SHOWN:
            self.problems.append(f"span {span.name!r}: {reason}")

    @property
    def rejection_message(self) -> str:
        """The partial-success `error_message`: empty when nothing was rejected."""
        if not self.rejected:
            return ""
        more = self.rejected - len(self.problems)
        suffix = f"; and {more} more" if more > 0 else ""
        return f"{self.rejected} spans rejected: " + "; ".join(self.problems) + suffix


def received_spans(request: ExportTraceServiceRequest) -> ReceivedSpans:
    """Rebuild the request's tool-call spans; never raises for anything a request may hold."""
    received = ReceivedSpans()
    for resource_spans in request.resource_spans:
        resource = Resource(
            cast(Mapping[str, Any], attribute_map(resource_spans.resource.attributes)),
            resource_spans.schema_url or None,
        )
        for scope_spans in resource_spans.scope_spans:
            scope = _scope(scope_spans.scope, scope_spans.schema_url)
            for span in scope_spans.spans:
                received.spans += 1
                problem = _id_problem(span)
                if problem is not None:
                    received.reject(span, problem)
                    continue
                attributes = attribute_map(span.attributes)
                if is_tool_call(attributes):
                    received.tool_calls.append(_readable(span, attributes, resource, scope))
    return received


def attribute_map(pairs: Iterable[KeyValue]) -> dict[str, object]:
    """OTLP key-values as the SDK holds attributes: arrays as tuples, kvlists as dicts."""
    return {pair.key: any_value(pair.value) for pair in pairs}


def any_value(value: AnyValue) -> object:
    """One `AnyValue`; bytes become base64 text, as OpenTelemetry maps them outside OTLP."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "array_value":
        return tuple(any_value(item) for item in value.array_value.values)
    if kind == "kvlist_value":
        return attribute_map(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def _id_problem(span: Span) -> str | None:
    if not _valid_id(span.trace_id, _TRACE_ID_BYTES):
        return "trace id is missing, not 16 bytes (32 hex digits in JSON) or all zero"
    if not _valid_id(span.span_id, _SPAN_ID_BYTES):
        return "span id is missing, not 8 bytes (16 hex digits in JSON) or all zero"
    if span.parent_span_id and not _valid_id(span.parent_span_id, _SPAN_ID_BYTES):
        return "parent span id is not 8 bytes (16 hex digits in JSON) or all zero"
    return None


def _valid_id(raw: bytes, size: int) -> bool:
    return len(raw) == size and any(raw)


def _readable(
    span: Span, attributes: Mapping[str, object], resource: Resource, scope: SdkScope | None
) -> ReadableSpan:
    trace_id = int.from_bytes(span.trace_id, "big")
    flags = TraceFlags(span.flags & _TRACE_FLAGS)
    context = SpanContext(
        trace_id,
        int.from_bytes(span.span_id, "big"),
        is_remote=False,
        trace_flags=flags,
        trace_state=TraceState.from_header([span.trace_state]) if span.trace_state else None,
    )
    parent = None
    if span.parent_span_id:
        parent = SpanContext(
            trace_id,
            int.from_bytes(span.parent_span_id, "big"),
            is_remote=bool(span.flags & _IS_REMOTE),
            trace_flags=flags,
        )
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=cast(Attributes, attributes),
        events=[
            Event(
                event.name,
                cast(Attributes, attribute_map(event.attributes)),
                event.time_unix_nano or None,
            )
            for event in span.events
        ],
        links=[_link(link) for link in span.links],
        kind=_kind(span.kind),
        status=_status(span.status.code, span.status.message),
        start_time=span.start_time_unix_nano or None,
        end_time=span.end_time_unix_nano or None,
        instrumentation_scope=scope,
    )


def _link(link: Span.Link) -> Link:
    context = SpanContext(
        int.from_bytes(link.trace_id, "big"),
        int.from_bytes(link.span_id, "big"),
        is_remote=bool(link.flags & _IS_REMOTE),
        trace_flags=TraceFlags(link.flags & _TRACE_FLAGS),
    )
    return Link(context, cast(Attributes, attribute_map(link.attributes)))


def _scope(scope: InstrumentationScope, schema_url: str) -> SdkScope | None:
    if not scope.name:
        return None
    return SdkScope(
        scope.name,
        scope.version or None,
        schema_url or None,
        cast(Attributes, attribute_map(scope.attributes)),
    )


def _kind(kind: int) -> SpanKind:
    """OTLP counts kinds from UNSPECIFIED = 0; the SDK from INTERNAL = 0."""
    if Span.SpanKind.SPAN_KIND_INTERNAL <= kind <= Span.SpanKind.SPAN_KIND_CONSUMER:
        return SpanKind(kind - 1)
    return SpanKind.INTERNAL


def _status(code: int, message: str) -> Status:
    """The SDK keeps a description only for errors (it warns about any other)."""
    if code == StatusCode.ERROR.value:
        return Status(StatusCode.ERROR, message or None)
    if code == StatusCode.OK.value:
        return Status(StatusCode.OK)
    return Status(StatusCode.UNSET)
