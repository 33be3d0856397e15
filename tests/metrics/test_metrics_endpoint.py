"""`metrics_port` serves Prometheus metrics; without it (or OTLP) there is no MeterProvider.

Each case runs in its own process: OpenTelemetry's global MeterProvider can be set only once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import enrichment_logs as el

PIPELINE = """
import os, sys, urllib.request
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
import enrichment_logs as el

directory, port = sys.argv[1], sys.argv[2]
handle = el.configure(directory + "/off.duckdb")
assert not isinstance(metrics.get_meter_provider(), MeterProvider), "metrics should be off"
handle.shutdown()

os.environ["ENRICHMENT_LOGS_METRICS_PORT"] = port
handle = el.configure(directory + "/on.duckdb")

@el.tool("exa", "search", cost="0.007")
def search(query):
    return {"results": []}

with el.enrichment_session(lead_id="lead-7", company_id="acme"):
    search("acme")
    search("acme news")
handle.flush()
print(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode())
handle.shutdown()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ENRICHMENT_LOGS_CONSOLE": "off"}
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "ENRICHMENT_LOGS_METRICS_PORT"):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_metrics_port_serves_prometheus_metrics_on_loopback(tmp_path: Path):
    done = run(PIPELINE, str(tmp_path), str(free_port()))
    assert done.returncode == 0, done.stderr
    exposition = done.stdout
    cost = [line for line in exposition.splitlines() if line.startswith("enrichment_logs_cost_")]
    assert len(cost) == 1
    assert cost[0].startswith("enrichment_logs_cost_USD_total{")
    assert 'provider="exa"' in cost[0]
    assert cost[0].endswith(" 0.014")
    assert "# TYPE gen_ai_client_operation_duration_seconds histogram" in exposition
    assert 'gen_ai_client_operation_duration_seconds_bucket{gen_ai_operation_name="search"' in (
        exposition.replace('error_type="",', "")
    )
    assert "enrichment_logs_exporter_rows_written_total" in exposition
    assert "lead-7" not in exposition
    assert 'service_name="enrichment-pipeline"' in exposition  # target_info


def test_a_port_already_taken_is_a_configuration_error(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(
            "import sys, enrichment_logs as el\n"
            "el.configure(sys.argv[1], metrics_port=int(sys.argv[2]))",
            str(tmp_path / "logs.duckdb"),
            str(port),
        )
    assert done.returncode != 0
    assert "ConfigurationError" in done.stderr
    assert f"cannot serve Prometheus metrics on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize("port", ["http", "0", "-1", "65536"])
def test_a_bad_port_is_refused_before_anything_starts(tmp_path: Path, port: str):
    with pytest.raises(el.ConfigurationError, match="metrics_port"):
        el.configure(tmp_path / "logs.duckdb", metrics_port=port)  # type: ignore[arg-type]


def test_a_bad_port_in_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("ENRICHMENT_LOGS_METRICS_PORT", "9464x")
    with pytest.raises(el.ConfigurationError, match="ENRICHMENT_LOGS_METRICS_PORT='9464x'"):
        el.configure(tmp_path / "logs.duckdb")
