"""The ingest service as users run it: `enrichment-logs ingest` in its own process, spoken to over
loopback HTTP, stopped with SIGTERM, its DuckDB file read once it has exited."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan

from tests.conftest import read_rows

COMMAND = Path(sys.executable).with_name("enrichment-logs")
START_TIMEOUT = 30.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def response(self) -> ExportTraceServiceResponse:
        assert self.status == 200, self.body
        response: ExportTraceServiceResponse = self._parse(ExportTraceServiceResponse())
        return response

    def rpc_status(self) -> status_pb2.Status:
        assert self.status >= 400
        return self._parse(status_pb2.Status())

    def _parse(self, message: Any) -> Any:
        """The body in the encoding the answer names: OTLP answers in the request's."""
        if self.headers["content-type"] == "application/json":
            json_format.Parse(self.body, message)
        else:
            message.ParseFromString(self.body)
        return message


class IngestProcess:
    """`enrichment-logs ingest` on a free loopback port, writing `db_path`."""

    def __init__(self, db_path: Path, *args: str, **environment: str) -> None:
        self.db_path = db_path
        self.process = subprocess.Popen(
            [str(COMMAND), "ingest", "--db", str(db_path), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **environment},
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("listening on "):
            self.process.kill()
            pytest.fail(f"ingest did not start: {line!r} {self.process.communicate()[1]}")
        self.url = line.split()[2]
        address = urlsplit(self.url)
        self.host, self.port = str(address.hostname), int(address.port or 0)

    def post(
        self,
        body: bytes,
        content_type: str = "application/x-protobuf",
        *,
        gzipped: bool = False,
        path: str = "/v1/traces",
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if gzipped:
            body = gzip.compress(body)
            all_headers["Content-Encoding"] = "gzip"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return Reply(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def stop(self) -> int:
        """SIGTERM, as `docker stop` sends it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.process.communicate()

    def rows(self, where: str = "TRUE") -> list[dict[str, Any]]:
        assert self.stop() == 0
        return read_rows(self.db_path, where)


@pytest.fixture
def start_ingest(tmp_path: Path) -> Iterator[Any]:
    started: list[IngestProcess] = []

    def start(*args: str, db_name: str = "ingest.duckdb", **environment: str) -> IngestProcess:
        started.append(IngestProcess(tmp_path / db_name, *args, **environment))
        return started[-1]

    yield start
    for ingest in started:
        if ingest.process.poll() is None:
            ingest.process.kill()
            ingest.process.communicate()


def otlp_protobuf(spans: Sequence[ReadableSpan]) -> bytes:
    """What the OTLP/HTTP span exporter sends for `spans`."""
    body: bytes = encode_spans(spans).SerializeToString()
    return body


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON for a request: protobuf's JSON mapping, with integer enums and hex ids."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for item in (span, *span.get("links", [])):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in item:
                            item[key] = _base64_to_hex(item[key])
    return json.dumps(document).encode()


def _base64_to_hex(value: str) -> str:
    """Upper case: OTLP/JSON hex ids are case-insensitive, so the receiver must take both."""
    return base64.b64decode(value).hex().upper()
