"""A user points the analytics at the wrong thing and reads a sentence, not a traceback."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from enrichment_logs.analytics import AnalyticsError, get_enrichment_costs, get_usage_trends
from tests.analytics.conftest import utc


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="does not exist"):
        get_enrichment_costs(tmp_path / "nowhere.duckdb")
    assert not (tmp_path / "nowhere.duckdb").exists()


@pytest.mark.parametrize("content", [b"", b"id,cost\n1,0.5\n", b"x" * 4096])
def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(content)

    with pytest.raises(AnalyticsError, match="not a DuckDB database"):
        get_enrichment_costs(path)
    assert path.read_bytes() == content


def test_a_sqlite_file_is_refused_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    before = path.read_bytes()

    with pytest.raises(AnalyticsError, match="not a DuckDB database"):
        get_enrichment_costs(str(path))
    assert path.read_bytes() == before


def test_a_duckdb_file_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()

    with pytest.raises(AnalyticsError, match="no enrichment_logs table"):
        get_enrichment_costs(path)


def test_a_naive_datetime_is_refused_rather_than_guessed(db: Path) -> None:
    with pytest.raises(AnalyticsError, match="no time zone"):
        get_enrichment_costs(db, date_range=(datetime(2024, 3, 4), utc(2024, 3, 5)))


def test_a_range_that_ends_before_it_starts_is_refused(db: Path) -> None:
    with pytest.raises(AnalyticsError, match="before it starts"):
        get_usage_trends(db, date_range=(utc(2024, 3, 5), utc(2024, 3, 4)))


def test_analytics_errors_are_value_errors() -> None:
    assert issubclass(AnalyticsError, ValueError)


def test_to_arrow_says_what_is_missing_without_pyarrow(db: Path) -> None:
    if importlib.util.find_spec("pyarrow") is not None:
        pytest.skip("pyarrow is installed")
    with pytest.raises(ModuleNotFoundError, match="pip install pyarrow"):
        get_enrichment_costs(db).to_arrow()


def test_results_as_arrow_tables(db: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")

    table = get_enrichment_costs(db, group_by=("provider",)).to_arrow()

    assert isinstance(table, pyarrow.Table)
    assert table.column_names == [
        "provider", "calls", "priced_calls", "unknown_cost_calls", "known_cost",
    ]  # fmt: skip
    assert table.num_rows == 4
    assert (
        get_usage_trends(db, date_range=(utc(2023, 1, 1), utc(2023, 1, 2))).to_arrow().num_rows == 0
    )
