"""An analyst or Grafana queries the views and gets the Python API's numbers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from enrichment_logs.analytics import (
    VIEW_NAMES,
    create_views,
    get_cost_per_enrichment,
    get_enrichment_costs,
    get_performance_metrics,
    get_usage_trends,
)


@pytest.fixture
def with_views(db: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    copy = Path(shutil.copy(db, tmp_path / "with_views.duckdb"))
    with duckdb.connect(str(copy)) as connection:
        create_views(connection)
        yield connection


def _view(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_creating_the_views_twice_is_harmless(with_views: duckdb.DuckDBPyConnection) -> None:
    create_views(with_views)

    names = {
        row[0] for row in with_views.execute("SELECT view_name FROM duckdb_views()").fetchall()
    }
    assert set(VIEW_NAMES) <= names


def test_the_views_give_the_python_apis_figures(with_views: duckdb.DuckDBPyConnection) -> None:
    # Another session time zone must not move any call to another day.
    with_views.execute("SET TimeZone = 'America/New_York'")

    daily = _view(with_views, "SELECT * FROM cost_by_provider_daily ORDER BY ALL")
    python = get_enrichment_costs(with_views, group_by=("day", "provider", "operation", "model"))
    assert daily == sorted(python.rows(), key=lambda row: tuple(str(v) for v in row.values()))
    assert _view(with_views, "SELECT * FROM provider_performance ORDER BY provider, operation") == (
        get_performance_metrics(with_views).rows()
    )
    usage = _view(with_views, "SELECT * FROM usage_daily ORDER BY bucket_start, provider")
    assert [{**row, "bucket_start": row["bucket_start"].timestamp()} for row in usage] == [
        {**row, "bucket_start": row["bucket_start"].timestamp()}
        for row in get_usage_trends(with_views).rows()
    ]
    assert _view(with_views, "SELECT * FROM cost_per_enrichment ORDER BY unit DESC") == (
        get_cost_per_enrichment(with_views).rows()
    )


def test_repeated_paid_requests_show_what_a_cache_would_save(
    with_views: duckdb.DuckDBPyConnection,
) -> None:
    rows = _view(with_views, "SELECT * FROM caching_opportunities")

    assert len(rows) == 1
    (row,) = rows
    assert (row["request_hash"], row["calls"], row["repeated_calls"]) == ("h1", 3, 2)
    assert (str(row["known_cost"]), str(row["avoidable_cost"])) == ("0.0200000000", "0.0150000000")


def test_a_callers_connection_keeps_its_own_time_zone(
    with_views: duckdb.DuckDBPyConnection,
) -> None:
    with_views.execute("SET TimeZone = 'Asia/Tokyo'")

    get_enrichment_costs(with_views)

    assert with_views.execute("SELECT current_setting('TimeZone')").fetchone() == ("Asia/Tokyo",)


def test_every_database_the_pipeline_writes_has_the_views(tmp_path):
    import duckdb

    import enrichment_logs as el
    from enrichment_logs.analytics import VIEW_NAMES

    handle = el.configure(tmp_path / "fresh.duckdb", console=False, instrument=False)
    handle.shutdown()
    with duckdb.connect(str(tmp_path / "fresh.duckdb"), read_only=True) as connection:
        views = {
            name
            for (name,) in connection.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
    assert set(VIEW_NAMES) <= views
