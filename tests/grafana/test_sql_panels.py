"""Every SQL panel and variable, expanded as Grafana and the DuckDB plugin expand them, runs on
DuckDB 1.5.4 over the Parquet a pipeline publishes, while that pipeline keeps writing, and
returns rows of types Grafana can show; the exact figures equal the analytics API's."""

from __future__ import annotations

import subprocess
import sys
import warnings
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
    Selection,
    Target,
    constant,
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
    publish_dir: Path
    process: subprocess.Popen[str]
    started: datetime

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            assert self.process.wait(timeout=60) == 0


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """The reference pipeline writing and publishing Parquet, until the module is done."""
    grafana_duckdb.install()
    db_path = tmp_path_factory.mktemp("grafana") / "logs.duckdb"
    started = datetime.now(UTC)
    process = subprocess.Popen(
        [sys.executable, str(WORKLOAD), "rounds", "--db", str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    running = Writer(db_path, db_path.with_name(db_path.name + ".parquet"), process, started)
    yield running
    running.stop()


def glob(writer: Writer) -> str:
    return str(writer.publish_dir / "*.parquet")


def variable_options(writer: Writer) -> dict[tuple[str, str], list[str]]:
    """Each SQL query variable's options, from its query run as Grafana runs it."""
    found = sql_variable_queries()
    queries = []
    for dashboard_title, _, variable in found:
        dashboard = next(d for d in dashboards().values() if d["title"] == dashboard_title)
        assert constant(dashboard, "parquet_glob")
        queries.append(variable["query"].replace("${parquet_glob:raw}", glob(writer)))
    results = grafana_duckdb.run(queries, retry_torn_reads=writer.process.poll() is None)
    return {
        (title, name): [str(row[0]) for row in result.rows]
        for (title, name, _), result in zip(found, results, strict=True)
    }


def expanded_panels(writer: Writer) -> list[tuple[Target, str]]:
    """Every SQL target with the dashboard opened on a range that covers the run."""
    options = variable_options(writer)
    # Provider performance takes its providers from Prometheus (label values of the calls
    # counter): the providers that made calls, which are those in the log.
    providers = options[("Enrichment costs", "provider")]
    expanded = []
    for dashboard in dashboards().values():
        own = {
            name: values for (title, name), values in options.items() if title == dashboard["title"]
        }
        chosen = selections(dashboard, {"provider": providers, **own})
        chosen["parquet_glob"] = Selection((glob(writer),))
        for target in targets(DUCKDB_TYPE):
            if target.dashboard != dashboard["title"]:
                continue
            sql = expand_sql(
                target.query["rawSql"],
                chosen,
                writer.started - timedelta(hours=1),
                datetime.now(UTC) + timedelta(hours=1),
                interval_ms=60_000,
            )
            expanded.append((target, sql))
    return expanded


def test_every_sql_variable_resolves(writer: Writer):
    options = variable_options(writer)
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
    panels = expanded_panels(writer)
    assert len(panels) >= 20
    torn_reads = 0
    for _ in range(3):  # the writer replaces the day's file every 0.2 s meanwhile
        results = grafana_duckdb.run([sql for _, sql in panels], retry_torn_reads=True)
        for (target, _), result in zip(panels, results, strict=True):
            check_result(target, result)
            torn_reads += result.torn_reads
    assert writer.process.poll() is None, "the writer stopped"
    if torn_reads:
        warnings.warn(
            f"{torn_reads} of {3 * len(panels)} panel queries met a torn read while the day's "
            "Parquet file was being replaced and were retried (see grafana_duckdb.py)",
            stacklevel=1,
        )


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
    [sql] = [sql for target, sql in expanded_panels(writer) if target.panel["title"] == title]
    [result] = grafana_duckdb.run([sql])
    return result


def rows_of(result: grafana_duckdb.Result) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_exact_panels_equal_the_analytics_figures(writer: Writer):
    """Once the writer has stopped (and published everything), the panels' figures are the
    analytics API's, which reads the database itself."""
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
