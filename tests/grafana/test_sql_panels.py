"""Every SQL panel and variable, expanded as Grafana and the DuckDB plugin expand them, runs on
DuckDB 1.5.4 set up by the datasource's initSql: over the lake a pipeline publishes while that
pipeline keeps writing (no error retried), and over a DuckLake store; it returns rows of types
Grafana can show, and the exact figures equal the analytics API's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrichment_logs import analytics
from tests.grafana import grafana_duckdb
from tests.grafana.dashboards import (
    DUCKDB_TYPE,
    Target,
    dashboards,
    expand_sql,
    selections,
    sql_variable_queries,
    targets,
)

WORKLOAD = Path(__file__).with_name("workload.py")
TIME_SERIES_PANELS = {"timeseries", "state-timeline", "barchart"}
GRAFANA_TYPES = {
    "BOOLEAN",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "FLOAT",
    "DOUBLE",
    "VARCHAR",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
}
"""Result types the plugin's driver turns into Grafana fields. Not HUGEINT (a string field, so
not plottable: sum() of integers is HUGEINT), nor unsigned, UUID, JSON, lists or structs."""


@dataclass
class Writer:
    db_path: Path
    lake: str
    """The published lake, as the datasource attaches it."""
    process: subprocess.Popen[str]
    started: datetime

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            assert self.process.wait(timeout=60) == 0


def start_writer(store: str) -> subprocess.Popen[str]:
    """The reference pipeline writing to `store` round after round, once its first round is
    written (and, for a DuckDB file, published)."""
    process = subprocess.Popen(
        [sys.executable, str(WORKLOAD), "rounds", "--store", store],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """The reference pipeline writing a DuckDB file and publishing its lake every 0.2 s, until
    the module is done."""
    grafana_duckdb.install()
    db_path = tmp_path_factory.mktemp("grafana") / "logs.duckdb"
    started = datetime.now(UTC)
    process = start_writer(str(db_path))
    lake = f"ducklake:sqlite:{db_path}.lake/enrichment_logs.sqlite"
    running = Writer(db_path, lake, process, started)
    yield running
    running.stop()


@dataclass(frozen=True)
class LakeStore:
    url: str
    started: datetime


@pytest.fixture(scope="module")
def lake_store(tmp_path_factory: pytest.TempPathFactory) -> LakeStore:
    """A `ducklake:sqlite:` store the reference pipeline wrote a few rounds to."""
    grafana_duckdb.install()
    url = f"ducklake:sqlite:{tmp_path_factory.mktemp('grafana-lake') / 'catalog.sqlite'}"
    started = datetime.now(UTC)
    process = start_writer(url)
    assert process.stdin is not None
    process.stdin.close()  # it finishes its round and exits
    assert process.wait(timeout=120) == 0
    return LakeStore(url, started)


def variable_options(lake: str) -> dict[tuple[str, str], list[str]]:
    """Each SQL query variable's options, from its query run as Grafana runs it."""
    found = sql_variable_queries()
    results = grafana_duckdb.run([variable["query"] for _, _, variable in found], lake=lake)
    return {
        (title, name): [str(row[0]) for row in result.rows]
        for (title, name, _), result in zip(found, results, strict=True)
    }


def expanded_panels(lake: str, started: datetime) -> list[tuple[Target, str]]:
    """Every SQL target with the dashboard opened on a range that covers the run."""
    options = variable_options(lake)
    # Provider performance takes its providers from Prometheus (label values of the calls
    # counter): the providers that made calls, which are those in the log.
    providers = options[("Enrichment costs", "provider")]
    expanded = []
    for dashboard in dashboards().values():
        own = {
            name: values for (title, name), values in options.items() if title == dashboard["title"]
        }
        chosen = selections(dashboard, {"provider": providers, **own})
        for target in targets(DUCKDB_TYPE):
            if target.dashboard != dashboard["title"]:
                continue
            sql = expand_sql(
                target.query["rawSql"],
                chosen,
                started - timedelta(hours=1),
                datetime.now(UTC) + timedelta(hours=1),
                interval_ms=60_000,
            )
            expanded.append((target, sql))
    return expanded


def test_every_sql_variable_resolves(writer: Writer):
    options = variable_options(writer.lake)
    assert options
    for (title, name), values in options.items():
        assert values, f"{title}: ${name} has no options"
    assert set(options[("Enrichment costs", "provider")]) == {
        "exa",
        "firecrawl",
        "openai",
        "perplexity",
    }


def test_every_sql_panel_runs_on_duckdb_154_while_the_pipeline_writes(writer: Writer):
    panels = expanded_panels(writer.lake, writer.started)
    assert len(panels) >= 20
    for _ in range(3):  # the writer publishes every 0.2 s meanwhile; no error is retried
        results = grafana_duckdb.run([sql for _, sql in panels], lake=writer.lake)
        for (target, _), result in zip(panels, results, strict=True):
            check_result(target, result)
    assert writer.process.poll() is None, "the writer stopped"


def test_every_sql_panel_runs_unchanged_on_a_ducklake_store(lake_store: LakeStore):
    panels = expanded_panels(lake_store.url, lake_store.started)
    results = grafana_duckdb.run([sql for _, sql in panels], lake=lake_store.url)
    for (target, _), result in zip(panels, results, strict=True):
        check_result(target, result)
    [spend] = [
        result
        for (target, _), result in zip(panels, results, strict=True)
        if target.panel["title"] == "Spend by provider, operation and model"
    ]
    costs = analytics.get_enrichment_costs(lake_store.url)
    assert sum(row["calls"] for row in rows_of(spend)) == costs.totals.calls


def check_result(target: Target, result: grafana_duckdb.Result) -> None:
    assert result.rows, f"{target.name} returned no rows"
    for column, kind in zip(result.columns, result.types, strict=True):
        decimal = kind.startswith("DECIMAL(") and int(kind[8:].split(",")[0]) <= 18
        assert kind in GRAFANA_TYPES or decimal, f"{target.name}: {column} is {kind}"
    if target.panel["type"] in TIME_SERIES_PANELS:
        assert result.columns[0] == "time", target.name
        assert result.types[0].startswith("TIMESTAMP"), target.name
        times = [row[0] for row in result.rows]
        assert times == sorted(times), f"{target.name}: not in time order"


def panel_result(writer: Writer, title: str) -> grafana_duckdb.Result:
    [sql] = [
        sql
        for target, sql in expanded_panels(writer.lake, writer.started)
        if target.panel["title"] == title
    ]
    [result] = grafana_duckdb.run([sql], lake=writer.lake)
    return result


def rows_of(result: grafana_duckdb.Result) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_exact_panels_equal_the_analytics_figures(writer: Writer):
    """Once the writer has stopped (and published everything), the panels' figures over the
    published lake are the analytics API's, which reads the database itself."""
    writer.stop()
    spend = rows_of(panel_result(writer, "Spend by provider, operation and model"))
    costs = analytics.get_enrichment_costs(writer.db_path)
    assert sum(row["cost_usd"] for row in spend) == pytest.approx(float(costs.totals.known_cost))
    assert sum(row["calls"] for row in spend) == costs.totals.calls

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    today = analytics.get_enrichment_costs(
        writer.db_path, date_range=(midnight, midnight + timedelta(days=1))
    )
    [spent_today] = rows_of(panel_result(writer, "Spend today (UTC)"))
    assert spent_today["spend today"] == pytest.approx(float(today.totals.known_cost))

    [per_lead] = rows_of(panel_result(writer, "Cost per enriched lead"))
    expected = analytics.get_cost_per_enrichment(writer.db_path).per_enriched_lead
    assert expected.priced > 0
    for figure, column in (("mean_cost", "mean"), ("p50_cost", "p50"), ("p95_cost", "p95")):
        # the view's mean is exact, truncated to the cost column's 10 decimals
        assert per_lead[column] == pytest.approx(float(getattr(expected, figure)), abs=1e-10)

    top = rows_of(panel_result(writer, "Top leads by cost"))
    leaders = analytics.get_top_leads(writer.db_path, 25).leads
    assert [(row["lead_id"], row["cost_usd"]) for row in top] == [
        (lead.lead_id, pytest.approx(float(lead.known_cost))) for lead in leaders
    ]
