"""`enrichment-logs forget --lead`: a lead who asks to be erased can be found nowhere a reader
looks, in a DuckLake (tables, views, every older snapshot, data files, the catalog) or a DuckDB
file (table, views, the published lake, the spool); the other leads stay."""

from __future__ import annotations

import threading
from pathlib import Path

from enrichment_logs.config import Settings
from enrichment_logs.export.duckdb_store import SegmentRejectedError, StoreError
from enrichment_logs.export.ducklake_store import DuckLakeStore
from enrichment_logs.export.erasure import delete_rows, lead_rows
from enrichment_logs.export.spool import Spool
from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url
from enrichment_logs.ids import new_log_id
from tests.analytics.cli_runs import run
from tests.conftest import read_rows
from tests.debian import require_command
from tests.lake.traces import (
    GONE,
    KEPT,
    found_in_files,
    found_in_postgres,
    found_in_store,
    write_calls,
)


def test_a_forgotten_lead_leaves_no_trace_in_a_lake(capsys, postgres, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the writers' default spool is in the working directory
    database = postgres.create_database()
    store = f"ducklake:postgres:{postgres.dsn(database)}?data_path={tmp_path}/lake"
    pg_dump = Path(require_command("pg_dump", "postgresql", search=("/usr/lib/postgresql/*/bin",)))
    write_calls(store, batches=4)  # a data file and a snapshot each
    write_calls(store, batches=2, calls_per_lead=10)
    assert found_in_store(store, GONE)  # the searches can see it
    assert found_in_files(tmp_path / "lake", GONE)

    code, out, err = run(capsys, "forget", "--lead", GONE.lead_id, "--store", store)

    assert code == 0, err
    assert "deleted 24 rows (lead lead-gone)" in out  # 4 + 2 x 10
    assert found_in_store(store, GONE) == []  # every table, view and kept snapshot
    assert found_in_files(tmp_path / "lake", GONE) == []  # no data file holds it any more
    assert found_in_postgres(pg_dump, postgres.dsn(database), GONE) == []  # nor the catalog
    assert len(found_in_store(store, KEPT)) > 0
    assert found_in_files(tmp_path / "lake", KEPT)


def test_a_forgotten_lead_leaves_no_trace_in_a_duckdb_file_or_its_published_files(capsys, tmp_path):
    db_path = tmp_path / "logs.duckdb"
    write_calls(str(db_path), batches=2, publish_interval_seconds=0.01)
    published = tmp_path / "logs.duckdb.lake"
    assert found_in_files(published, GONE)
    # A row the pipeline could not write yet (the file was held): it must not land later.
    waiting = [row for row in read_rows(db_path) if row["lead_id"] == GONE.lead_id][:1]
    waiting[0]["id"] = "01900000-0000-7000-8000-000000000001"
    Spool(tmp_path / "logs.duckdb.spool").append(waiting)

    code, out, err = run(capsys, "forget", "--lead", GONE.lead_id, "--db", str(db_path))

    assert code == 0, err
    assert "deleted 3 rows (lead lead-gone)" in out  # 2 written + 1 spooled
    assert "after writing the 1 rows the spool held" in out
    assert found_in_store(str(db_path), GONE) == []
    assert found_in_files(published, GONE) == []
    assert not any((tmp_path / "logs.duckdb.spool").glob("*.jsonl"))
    assert found_in_files(published, KEPT)
    assert {row["lead_id"] for row in read_rows(db_path)} == {KEPT.lead_id}


def test_forget_by_company_and_on_a_store_that_is_not_there(capsys, tmp_path):
    db_path = tmp_path / "logs.duckdb"
    write_calls(str(db_path), batches=1)

    code, out, _ = run(capsys, "forget", "--company", KEPT.company_id, "--db", str(db_path))
    assert code == 0
    assert "deleted 1 rows (company company-kept)" in out
    assert {row["company_id"] for row in read_rows(db_path)} == {GONE.company_id}

    code, _, err = run(capsys, "forget", "--lead", "x", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2
    assert "none.duckdb does not exist" in err
    assert not (tmp_path / "none.duckdb").exists()


def test_forget_goes_through_while_writers_keep_inserting(postgres_lake, tmp_path):
    """A DuckLake delete conflicts with every insert committed while it runs: it is redone until
    it lands between two of them."""
    write_calls(postgres_lake, batches=1, calls_per_lead=8)
    fresh = read_rows(_sample(tmp_path))
    spool = Spool(tmp_path / "writer.spool")
    segments = [spool.append([{**row, "id": new_log_id()} for row in fresh]) for _ in range(60)]
    store = DuckLakeStore(_lake(postgres_lake))
    stop = threading.Event()

    rejected: list[SegmentRejectedError] = []

    def keep_writing() -> None:
        for segment in segments:
            if stop.is_set():
                return
            try:
                store.ingest(segment)
            except SegmentRejectedError as error:  # rows an exporter would set aside: lost
                rejected.append(error)
            except StoreError:  # an exporter keeps the segment for its next export
                pass

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        done = delete_rows(Settings.load({"store": postgres_lake}), lead_rows(GONE.lead_id))
    finally:
        stop.set()
        writer.join(timeout=60)
        store.close()
    assert done.rows_deleted == 8
    assert rejected == []  # the erasure's file clean-up is a lake failure, not bad data
    assert found_in_store(postgres_lake, GONE) == []
    assert found_in_store(postgres_lake, KEPT)


def _sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.duckdb"
    write_calls(str(path), batches=1, leads=(KEPT,), calls_per_lead=4)
    return path


def _lake(store: str) -> DuckLakeUrl:
    url = parse_store_url(store)
    assert isinstance(url, DuckLakeUrl)
    return url
