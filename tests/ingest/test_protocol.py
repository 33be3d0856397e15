"""OTLP/HTTP as the specification defines it: what each kind of request is answered, and that
the answer comes in the request's content type with a `google.rpc.Status` for every error."""

from __future__ import annotations

import gzip
import json
import socket
import time

import pytest
from google.rpc import code_pb2, error_details_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.ingest.conftest import IngestProcess

MAX_BODY = 65_536


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    process = IngestProcess(
        tmp_path_factory.mktemp("ingest") / "ingest.duckdb",
        "--max-body-bytes",
        str(MAX_BODY),
        "--max-concurrent-requests",
        "1",
    )
    yield process
    assert process.stop() == 0


def test_an_empty_request_succeeds_in_either_encoding(ingest):
    protobuf = ingest.post(b"")
    assert protobuf.headers["content-type"] == "application/x-protobuf"
    assert not protobuf.response().HasField("partial_success")

    as_json = ingest.post(b"{}", "application/json; charset=utf-8")
    assert as_json.headers["content-type"] == "application/json"
    assert not as_json.response().HasField("partial_success")


def test_unknown_json_fields_are_ignored_and_hex_ids_read_in_any_case(ingest):
    span = {
        "traceId": "5b8efff798038103D269B633813FC60C",
        "spanId": "eee19b7ec3c1b174",
        "name": "GET",
        "kind": 3,
        "someFutureField": {"nested": True},
    }
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}], "futureField": 1}]}

    reply = ingest.post(json.dumps(document).encode(), "application/json")

    assert not reply.response().HasField("partial_success")


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"path": "/v1/metrics"}, 404, code_pb2.NOT_FOUND),
        ({"content_type": "text/plain"}, 415, code_pb2.INVALID_ARGUMENT),
        ({"headers": {"Content-Encoding": "br"}}, 415, code_pb2.INVALID_ARGUMENT),
        ({"method": "GET"}, 405, code_pb2.UNIMPLEMENTED),
        ({"body": b"\0" * (MAX_BODY + 1)}, 413, code_pb2.RESOURCE_EXHAUSTED),
        (
            {
                "body": gzip.compress(b"\0" * (4 * MAX_BODY)),
                "headers": {"Content-Encoding": "gzip"},
            },
            413,
            code_pb2.RESOURCE_EXHAUSTED,
        ),
        (
            {"body": gzip.compress(b"x" * 100)[:-12], "headers": {"Content-Encoding": "gzip"}},
            400,
            code_pb2.INVALID_ARGUMENT,
        ),
    ],
    ids=["other path", "other type", "other coding", "GET", "too large", "gzip bomb", "cut gzip"],
)
def test_requests_that_cannot_be_taken_get_a_status_message(ingest, request_kwargs, status, code):
    reply = ingest.post(request_kwargs.pop("body", b""), **request_kwargs)

    assert reply.status == status
    assert reply.rpc_status().code == code
    assert reply.rpc_status().message


def test_bad_data_is_described_as_a_bad_request(ingest):
    reply = ingest.post(b'{"resourceSpans": 3}', "application/json")

    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    [detail] = reply.rpc_status().details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert bad_request.field_violations[0].description == reply.rpc_status().message


def test_a_chunked_body_is_asked_for_its_length(ingest):
    reply = raw_exchange(
        ingest,
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 411 ")


def test_more_requests_at_once_than_slots_are_told_to_retry(ingest):
    """The only slot is held by a client still sending its body."""
    request = ExportTraceServiceRequest().SerializeToString()
    with socket.create_connection((ingest.host, ingest.port), timeout=10) as slow:
        slow.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            b"Content-Length: 10\r\n\r\n"
        )
        deadline = time.monotonic() + 10
        while (reply := ingest.post(request)).status == 200 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the server has read the slow client's headers
        assert reply.status == 429
        assert reply.headers["retry-after"] == "1"
        assert reply.rpc_status().code == code_pb2.RESOURCE_EXHAUSTED
        slow.sendall(b"\0" * 10)
        assert slow.recv(4096).startswith(b"HTTP/1.1 400 ")
    assert ingest.post(request).status == 200


def raw_exchange(ingest: IngestProcess, data: bytes) -> bytes:
    with socket.create_connection((ingest.host, ingest.port), timeout=10) as connection:
        connection.sendall(data)
        return connection.recv(4096)
