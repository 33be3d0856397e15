"""Every PromQL expression of the dashboards returns data from a real Prometheus scraping a
pipeline, and Prometheus's cost figure is DuckDB's.

Debian's `prometheus` (installed on first use) scrapes the workload's `metrics_port` every 0.5 s
on loopback. The workload runs phase A (every cost series appears), a quiet gap, then phase B
(faults, a retried failure). `increase()` over a window whose edges are scrapes in the gap and
after B extrapolates nothing, so it is exactly phase B's cost: the `sum(cost)` of B's rows.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.debian import require_command
from tests.grafana.dashboards import PROMETHEUS_TYPE, Selection, dashboards, expand_promql, targets

WORKLOAD = Path(__file__).with_name("workload.py")
SCRAPE_SECONDS = 0.5
GUARDS_METRICS = ("enrichment_logs_budget_", "enrichment_logs_breaker_")
"""Budgets and breakers: metrics of the guards, checked apart while they are being built."""
GUARDS = {
    "ENRICHMENT_LOGS_BUDGETS": "daily=50,monthly=1000,exa.daily=5",
    "ENRICHMENT_LOGS_BREAKER": "failures=3,window=60s,cooldown=30s",
}
"""Budgets far above the run's spend, and a breaker that Exa's outage in phase B opens."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Run:
    api: str
    db_path: Path
    phases: dict[str, float]
    workload: subprocess.Popen[str]
    start: float = 0.0
    """A scrape in the quiet gap between the phases."""
    end: float = 0.0
    """A scrape after phase B, while the workload still serves its metrics."""

    def query(self, promql: str, at: float) -> list[dict[str, Any]]:
        parameters = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
        with urllib.request.urlopen(f"{self.api}/query?{parameters}", timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.api}/{path}", timeout=10) as response:
            return json.load(response)["data"]

    def stop_workload(self) -> None:
        if self.workload.poll() is None:
            assert self.workload.stdin is not None
            self.workload.stdin.close()
            assert self.workload.wait(timeout=60) == 0


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    prometheus = require_command("prometheus", "prometheus")
    directory = tmp_path_factory.mktemp("prometheus")
    metrics_port, api_port = free_port(), free_port()
    config = directory / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "500ms", "scrape_timeout": "400ms"},
                "scrape_configs": [
                    {
                        "job_name": "pipeline",
                        "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                    }
                ],
            }
        )
    )
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{api_port}",
            "--log.level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workload = None
    try:
        wait_for(f"http://127.0.0.1:{api_port}/-/ready", 30)
        # Prometheus applies its targets a moment after it is ready: wait for its first scrape
        # (the pipeline is not up yet, so `up` is 0), so that it scrapes all along the run.
        wait_for_first_scrape(f"http://127.0.0.1:{api_port}/api/v1", 30)
        workload = subprocess.Popen(
            [
                *(sys.executable, str(WORKLOAD), "phases"),
                *("--store", str(directory / "logs.duckdb"), "--metrics-port", str(metrics_port)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **GUARDS},
        )
        assert workload.stdout is not None
        phases = {}
        while "b-end" not in phases:
            line = workload.stdout.readline()
            assert line, "the workload ended early"
            name, moment = line.split()
            phases[name] = float(moment)
        time.sleep(4 * SCRAPE_SECONDS)  # a few scrapes after phase B
        running = Run(
            f"http://127.0.0.1:{api_port}/api/v1", directory / "logs.duckdb", phases, workload
        )
        running.start, running.end = window(running)
        yield running
    finally:
        if workload is not None and workload.poll() is None:
            workload.kill()
            workload.wait()
        server.terminate()
        server.wait(timeout=30)


def wait_for_first_scrape(api: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    query = urllib.parse.urlencode({"query": "up"})
    while True:
        with urllib.request.urlopen(f"{api}/query?{query}", timeout=5) as response:
            if json.load(response)["data"]["result"]:
                return
        assert time.monotonic() < deadline, "Prometheus never scraped"
        time.sleep(0.1)


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def scrape_times(run: Run) -> list[float]:
    """The timestamps of the scrapes so far (seconds, millisecond precision)."""
    [series] = run.query("up[60s]", time.time())
    return [float(sample[0]) for sample in series["values"]]


def window(run: Run) -> tuple[float, float]:
    """A scrape in the quiet gap between the phases, and the last scrape after phase B."""
    times = scrape_times(run)
    in_gap = [t for t in times if run.phases["a-end"] < t < run.phases["b-start"]]
    after = [t for t in times if t > run.phases["b-end"]]
    assert in_gap and after, (times, run.phases)
    return in_gap[-1], after[-1]


def test_increase_of_the_cost_counter_equals_duckdb_sum_of_cost(run: Run):
    start, end = run.start, run.end
    milliseconds = round((end - start) * 1000)
    [increase] = run.query(f"sum(increase(enrichment_logs_cost_USD_total[{milliseconds}ms]))", end)
    [total] = run.query("sum(enrichment_logs_cost_USD_total)", end)
    run.stop_workload()
    b_start = datetime.fromtimestamp(run.phases["b-start"], UTC)
    with duckdb.connect(str(run.db_path), read_only=True) as connection:
        phase_b, everything = connection.execute(
            "SELECT sum(cost) FILTER (WHERE started_at >= ?), sum(cost) FROM enrichment_logs",
            [b_start],
        ).fetchone() or (None, None)
    assert phase_b and everything and phase_b < everything
    assert float(increase["value"][1]) == pytest.approx(float(phase_b), rel=1e-9, abs=1e-12)
    assert float(total["value"][1]) == pytest.approx(float(everything), rel=1e-9, abs=1e-12)


def expanded_expressions(run: Run) -> list[tuple[str, str]]:
    start, end = run.start, run.end
    providers = run.get(
        "label/provider/values?"
        + urllib.parse.urlencode({"match[]": "enrichment_logs_calls_total"})
    )
    assert set(providers) == {"exa", "firecrawl", "openai", "perplexity"}
    builtins = {
        "__rate_interval": f"{round((end - start) * 1000)}ms",  # covers phase B
        "__range": f"{math.ceil(end - run.phases['a-start']) + 1}s",  # covers the run
        "__interval": "1s",
    }
    expanded = []
    for target in targets(PROMETHEUS_TYPE):
        dashboard = next(d for d in dashboards().values() if d["title"] == target.dashboard)
        names = {v["name"] for v in dashboard["templating"]["list"]}
        variables = (
            {"provider": Selection(tuple(providers), multi=True)} if "provider" in names else {}
        )
        expanded.append((target.name, expand_promql(target.text, variables, builtins)))
    return expanded


def returns_data(run: Run, promql: str) -> bool:
    result = run.query(promql, run.end)
    values = [float(series["value"][1]) for series in result]
    return any(math.isfinite(value) for value in values)


def test_every_promql_expression_returns_data(run: Run):
    expressions = [(name, expr) for name, expr in expanded_expressions(run) if not is_guards(expr)]
    assert len(expressions) >= 15
    empty = [name for name, expr in expressions if not returns_data(run, expr)]
    assert not empty


def is_guards(expr: str) -> bool:
    return any(prefix in expr for prefix in GUARDS_METRICS)


def test_budget_and_breaker_panels_return_data(run: Run):
    expressions = [(name, expr) for name, expr in expanded_expressions(run) if is_guards(expr)]
    assert expressions
    names = run.get("label/__name__/values")
    if not any(name.startswith(GUARDS_METRICS) for name in names):
        pytest.xfail("the guards (budgets, breakers) do not emit their metrics yet")
    empty = [name for name, expr in expressions if not returns_data(run, expr)]
    assert not empty
