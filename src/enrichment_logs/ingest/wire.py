"""OTLP/HTTP bodies in and out: content types, gzip, size limits, and the response messages.

Follows the OTLP specification (opentelemetry-proto `docs/specification.md`, "OTLP/HTTP"):
binary protobuf (`application/x-protobuf`) and JSON (`application/json`) on the same path, the
response in the request's content type, `Content-Encoding: gzip` accepted, the body limited
before and after decompression (413 past the limit), an `ExportTraceServiceResponse` on success
(with `partial_success` only when spans were rejected) and a `google.rpc.Status` for every 4xx
and 5xx, carrying a `google.rpc.BadRequest` for bad data.
"""

from __future__ import annotations

import enum
import zlib
from http import HTTPStatus
from typing import Final

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from enrichment_logs.ingest.otlp_json import MalformedJsonError, parse_json_request

DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
"""The OTLP specification's recommended limit, before and after decompression."""
_GZIP_WINDOW: Final = 16 + zlib.MAX_WBITS

_GRPC_CODES: Final = {
    HTTPStatus.BAD_REQUEST: code_pb2.INVALID_ARGUMENT,
    HTTPStatus.NOT_FOUND: code_pb2.NOT_FOUND,
    HTTPStatus.METHOD_NOT_ALLOWED: code_pb2.UNIMPLEMENTED,
    HTTPStatus.LENGTH_REQUIRED: code_pb2.INVALID_ARGUMENT,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: code_pb2.RESOURCE_EXHAUSTED,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: code_pb2.INVALID_ARGUMENT,
    HTTPStatus.TOO_MANY_REQUESTS: code_pb2.RESOURCE_EXHAUSTED,
    HTTPStatus.SERVICE_UNAVAILABLE: code_pb2.UNAVAILABLE,
    HTTPStatus.INTERNAL_SERVER_ERROR: code_pb2.INTERNAL,
}
"""`Status.code` is optional in OTLP/HTTP; clients may log it, so it says the same thing."""


class Encoding(enum.Enum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"

    @classmethod
    def of(cls, content_type: str | None) -> Encoding | None:
        """The encoding a `Content-Type` header names (parameters ignored), or None."""
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        for encoding in cls:
            if encoding.value == media_type:
                return encoding
        return None


class RequestError(Exception):
    """A request that cannot be accepted as sent; retrying it unchanged cannot help."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decompressed(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body without its content coding, at most `max_bytes` long."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding not in ("gzip", "x-gzip"):
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Encoding {content_encoding!r} is not supported: send gzip or none",
        )
    return _gunzip(body, max_bytes)


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    """All gzip members of `body`, stopping as soon as the output passes `max_bytes`."""
    parts: list[bytes] = []
    size = 0
    remaining = body
    while True:
        decompressor = zlib.decompressobj(_GZIP_WINDOW)
        try:
            part = decompressor.decompress(remaining, max_bytes - size + 1)
        except zlib.error as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the gzip body is corrupt: {exc}") from None
        size += len(part)
        if size > max_bytes:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is larger than {max_bytes} bytes once decompressed",
            )
        if not decompressor.eof:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the gzip body is truncated")
        parts.append(part)
        remaining = decompressor.unused_data
        if not remaining:
            return b"".join(parts)


def parse_request(body: bytes, encoding: Encoding) -> ExportTraceServiceRequest:
    """The `ExportTraceServiceRequest` in a decompressed body; `RequestError` (400) if none."""
    if encoding is Encoding.JSON:
        try:
            return parse_json_request(body)
        except MalformedJsonError as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None
    try:
        request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(body)
        return request
    except (DecodeError, RecursionError) as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"not a protobuf ExportTraceServiceRequest: {exc}"
        ) from None


def success_body(encoding: Encoding, rejected: int, message: str) -> bytes:
    """The `ExportTraceServiceResponse`; `partial_success` set only when spans were rejected."""
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return _encode(response, encoding)


def status_body(encoding: Encoding, status: HTTPStatus, message: str) -> bytes:
    """The `google.rpc.Status` every 4xx and 5xx answer carries."""
    rpc_status = status_pb2.Status(code=_GRPC_CODES.get(status, code_pb2.UNKNOWN), message=message)
    if status is HTTPStatus.BAD_REQUEST:
        bad_request = error_details_pb2.BadRequest()
        bad_request.field_violations.add(field="body", description=message)
        rpc_status.details.add().Pack(bad_request)
    return _encode(rpc_status, encoding)


def _encode(message: Message, encoding: Encoding) -> bytes:
    if encoding is Encoding.JSON:
        text: str = json_format.MessageToJson(message, indent=None, use_integers_for_enums=True)
        return text.encode("utf-8")
    serialized: bytes = message.SerializeToString()
    return serialized
