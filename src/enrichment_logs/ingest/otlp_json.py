"""OTLP/JSON bodies to protobuf messages, with the OTLP specification's deviations from proto3 JSON.

The OTLP specification (opentelemetry-proto `docs/specification.md`, "JSON Protobuf Encoding")
keeps proto3's JSON mapping except that `traceId`, `spanId` (and so `parentSpanId`) are
case-insensitive hex strings instead of base64, enums are integers, keys are lowerCamelCase and
unknown fields are ignored. protobuf's own `json_format` does everything but the hex ids, so the
ids are rewritten to base64 before it parses the document.

Like the Collector's own OTLP receiver, this is lenient where leniency loses nothing: enum names
and the original snake_case field names are accepted too. An id that is not hex becomes empty, so
its span is rejected on its own (partial success) instead of failing the whole request.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Final

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_ID_KEYS: Final = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")
_PARSE_DEPTH: Final = 64
"""Deeper than any real span (attribute values may nest kvlists), shallow enough for the stack."""


class MalformedJsonError(ValueError):
    """The body is not an OTLP/JSON `ExportTraceServiceRequest`."""


def parse_json_request(body: bytes) -> ExportTraceServiceRequest:
    """The request a JSON body holds; raises `MalformedJsonError` saying what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedJsonError(f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedJsonError("the body is not a JSON object")
    for item in _spans_and_links(document):
        for key in _ID_KEYS:
            if key in item:
                item[key] = _hex_to_base64(item[key])
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(
            document, request, ignore_unknown_fields=True, max_recursion_depth=_PARSE_DEPTH
        )
    except (json_format.ParseError, RecursionError) as exc:
        raise MalformedJsonError(f"not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None
    return request


def _spans_and_links(document: dict[str, object]) -> Iterator[dict[str, object]]:
    """Every span and span link object, wherever the document's shape allows one."""
    for resource_spans in _objects(document, "resourceSpans", "resource_spans"):
        for scope_spans in _objects(resource_spans, "scopeSpans", "scope_spans"):
            for span in _objects(scope_spans, "spans"):
                yield span
                yield from _objects(span, "links")


def _objects(parent: dict[str, object], *keys: str) -> Iterator[dict[str, object]]:
    """The JSON objects in the list under `keys`; other shapes are left to the parser to refuse."""
    for key in keys:
        items = parent.get(key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict))


def _hex_to_base64(value: object) -> str:
    """proto3 JSON's form of bytes for an OTLP hex id; empty (an invalid id) if it is not hex."""
    if not isinstance(value, str) or not value.isascii():
        return ""
    try:
        raw = binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        return ""
    return base64.b64encode(raw).decode("ascii")
