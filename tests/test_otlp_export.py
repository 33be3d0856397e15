"""With OTEL_EXPORTER_OTLP_ENDPOINT set, configure() also sends the spans and the metrics to the
Collector."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import read_rows

PIPELINE = """
import enrichment_logs as el

handle = el.configure()

@el.tool("exa", "search", cost="0.007")
def search(query):
    return {"results": []}

with el.enrichment_session(lead_id="lead-9", company_id="acme"):
    search("acme")
handle.flush()
handle.shutdown()
"""


class OtlpReceiver(ThreadingHTTPServer):
    """A loopback OTLP/HTTP traces and metrics endpoint that keeps every request it accepts."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.metric_requests: list[ExportMetricsServiceRequest] = []


class _Handler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            self.server.requests.append(ExportTraceServiceRequest.FromString(body))
        elif self.path == "/v1/metrics":
            self.server.metric_requests.append(ExportMetricsServiceRequest.FromString(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=5)


def test_spans_go_to_the_otlp_endpoint_and_rows_to_duckdb(tmp_path, receiver):
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    db_path = tmp_path / "logs.duckdb"
    environment = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_address[1]}",
        "ENRICHMENT_LOGS_DB_PATH": str(db_path),
        "ENRICHMENT_LOGS_CONSOLE": "false",
    }
    subprocess.run([sys.executable, str(script)], env=environment, check=True, timeout=120)

    attributes = [
        {kv.key: kv.value.string_value for kv in span.attributes}
        for request in receiver.requests
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    tool_calls = [a for a in attributes if a.get("enrichment.span.type") == "tool_call"]
    assert len(tool_calls) == 1
    assert tool_calls[0]["enrichment.provider"] == "exa"
    assert tool_calls[0]["enrichment.lead_id"] == "lead-9"
    assert any(a.get("enrichment.span.type") == "session" for a in attributes)
    [row] = read_rows(db_path)
    assert (row["provider"], row["lead_id"]) == ("exa", "lead-9")

    costs = [
        (dict((kv.key, kv.value.string_value) for kv in point.attributes), point.as_double)
        for request in receiver.metric_requests
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == "enrichment_logs.cost"
        for point in metric.sum.data_points
    ]
    assert costs, "no cost metric reached the OTLP endpoint"
    labels, usd = costs[-1]  # cumulative: the last export holds the total
    assert (labels["provider"], labels["status"], usd) == ("exa", "success", 0.007)
