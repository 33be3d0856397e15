"""The dashboards work on either path: metric names scraped from the process and names made by the
Collector's Prometheus exporter are the same."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from opentelemetry.sdk.metrics.export import Gauge, Histogram, Metric, Sum
from prometheus_client import REGISTRY, generate_latest

from tests.metrics.collector_names import Kind, collector_name
from tests.metrics.conftest import Collection
from tests.metrics.test_row_metrics import run_calls

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    ("gen_ai.client.operation.duration", "s", "histogram"): (
        "gen_ai_client_operation_duration_seconds"
    ),
    ("gen_ai.client.token.usage", "{token}", "histogram"): "gen_ai_client_token_usage",
    ("enrichment_logs.cost", "USD", "counter"): "enrichment_logs_cost_USD_total",
    ("enrichment_logs.calls", "{call}", "counter"): "enrichment_logs_calls_total",
    ("enrichment_logs.retries", "{retry}", "counter"): "enrichment_logs_retries_total",
    ("enrichment_logs.exporter.rows_written", "{row}", "counter"): (
        "enrichment_logs_exporter_rows_written_total"
    ),
    ("enrichment_logs.exporter.rows_spooled", "{row}", "gauge"): (
        "enrichment_logs_exporter_rows_spooled"
    ),
    ("enrichment_logs.budget.spent", "USD", "gauge"): "enrichment_logs_budget_spent_USD",
    ("enrichment_logs.breaker.state", "", "gauge"): "enrichment_logs_breaker_state",
    ("x.load", "1", "gauge"): "x_load_ratio",  # why our gauges never use unit "1"
    ("x.rate", "By/s", "gauge"): "x_rate_bytes_per_second",
}


@pytest.mark.parametrize(("metric", "name"), EXPECTED.items())
def test_the_collector_translation_rules(metric: tuple[str, str, Kind], name: str):
    assert collector_name(*metric) == name


def kind(metric: Metric) -> Kind:
    data = metric.data
    if isinstance(data, Histogram):
        return "histogram"
    if isinstance(data, Sum) and data.is_monotonic:
        return "counter"
    assert isinstance(data, Sum | Gauge)
    return "gauge"


def test_every_metric_scraped_has_the_name_the_collector_would_give_it(
    recorded, make_logs, monkeypatch
):
    """Our instruments, and the guards' where they exist: a budget, and a breaker that the
    failing call in `run_calls` opens (the variables are ignored where the guards are not)."""
    monkeypatch.setenv("ENRICHMENT_LOGS_BUDGETS", "daily=50,monthly=1000")
    monkeypatch.setenv("ENRICHMENT_LOGS_BREAKER", "failures=1,window=60s,cooldown=30s")
    logs = make_logs()
    run_calls(f"acme-{uuid.uuid4().hex[:8]}")
    assert logs.handle.flush()
    collection = Collection.collect()
    exposition = generate_latest(REGISTRY).decode()
    scraped = {line.split()[2] for line in exposition.splitlines() if line.startswith("# TYPE")}
    assert len(collection.metrics) >= 8
    for name, metric in collection.metrics.items():
        expected = collector_name(name, metric.unit or "", kind(metric))
        assert expected in scraped, (
            f"the Collector would name {name} (unit {metric.unit!r}) {expected}, which this "
            "process does not serve: the dashboards would differ between the two paths"
            + (
                " (a gauge of unit '1' gets _ratio only there: use '{state}' or '')"
                if metric.unit == "1"
                else ""
            )
        )


def test_the_collector_config_keeps_these_names():
    """The Collector's `prometheus` exporter must add suffixes and no namespace (its defaults)."""
    configs = sorted((ROOT / "collector").glob("*.y*ml"))
    exporters = {
        name: settings or {}
        for config in configs
        for name, settings in (yaml.safe_load(config.read_text()) or {})
        .get("exporters", {})
        .items()
        if name.split("/")[0] == "prometheus"
    }
    if not exporters:
        pytest.skip("collector/ has no prometheus exporter configured yet")
    for name, settings in exporters.items():
        assert "namespace" not in settings, name
        assert settings.get("add_metric_suffixes", True) is True, name
        strategy = settings.get("translation_strategy", "UnderscoreEscapingWithSuffixes")
        assert strategy == "UnderscoreEscapingWithSuffixes", name
