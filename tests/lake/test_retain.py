"""`enrichment-logs retain --days N`: calls older than N days go, from the store, its history and
its published files; younger ones stay."""

from __future__ import annotations

import duckdb
import pytest

from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url
from tests.analytics.cli_runs import run
from tests.conftest import read_rows
from tests.lake.traces import GONE, KEPT, found_in_files, found_in_store, write_calls

AGE_GONE_LEAD = (
    "UPDATE enrichment_logs SET started_at = started_at - INTERVAL 40 DAY, "
    "completed_at = completed_at - INTERVAL 40 DAY WHERE lead_id = 'lead-gone'"
)


def test_retain_deletes_old_calls_from_a_lake_and_its_snapshots(capsys, sqlite_lake, tmp_path):
    write_calls(sqlite_lake, batches=2, calls_per_lead=6)
    url = parse_store_url(sqlite_lake)
    assert isinstance(url, DuckLakeUrl)
    with connect_lake(url, read_only=False) as connection:
        connection.execute(AGE_GONE_LEAD)  # as if they had been written 40 days ago

    code, out, err = run(capsys, "retain", "--days", "30", "--store", sqlite_lake)

    assert code == 0, err
    assert "deleted 12 rows (calls started more than 30 days ago)" in out
    assert found_in_store(sqlite_lake, GONE) == []
    assert found_in_files(tmp_path / "catalog.sqlite.files", GONE) == []
    assert found_in_store(sqlite_lake, KEPT)


def test_retain_deletes_old_calls_from_a_duckdb_file_and_its_published_files(capsys, tmp_path):
    db_path = tmp_path / "logs.duckdb"
    write_calls(str(db_path), batches=2, publish_interval_seconds=0.01)
    with duckdb.connect(str(db_path)) as connection:
        connection.execute(AGE_GONE_LEAD)

    code, out, err = run(capsys, "retain", "--days", "30", "--db", str(db_path))

    assert code == 0, err
    assert "deleted 2 rows" in out
    assert {row["lead_id"] for row in read_rows(db_path)} == {KEPT.lead_id}
    published = tmp_path / "logs.duckdb.lake"
    assert found_in_files(published, GONE) == []  # no data file of the published lake holds it
    assert found_in_files(published, KEPT)


def test_retain_needs_a_whole_number_of_days(capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        run(capsys, "retain", "--days", "0", "--db", str(tmp_path / "x.duckdb"))
    assert exited.value.code == 2
    assert "--days: '0': expected a whole number of at least 1" in capsys.readouterr().err
