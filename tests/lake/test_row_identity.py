"""One row per call in a lake, which has no unique constraint: a replayed segment adds nothing,
two writers committing the same rows at the same moment leave one copy, and `store compact`
removes any second copy left behind (and merges the small files)."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import pytest

from enrichment_logs.export.duckdb_store import SegmentRejectedError
from enrichment_logs.export.ducklake_store import DuckLakeStore
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.spool import Spool
from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url
from tests.analytics.cli_runs import run
from tests.conftest import read_rows
from tests.lake.traces import write_calls


def segment_of_calls(directory: Path, calls_per_lead: int) -> Path:
    """A spool segment of fresh rows, as a writer leaves it before ingesting it."""
    source = directory / f"source-{len(list(directory.glob('source-*')))}.duckdb"
    write_calls(str(source), batches=1, calls_per_lead=calls_per_lead)
    return Spool(directory / "spool").append(read_rows(source))


def lake_url(store: str) -> DuckLakeUrl:
    url = parse_store_url(store)
    assert isinstance(url, DuckLakeUrl)
    return url


def counts(store: str) -> tuple[int, int]:
    with connect_lake(lake_url(store), read_only=True) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT id) FROM enrichment_logs"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_a_replayed_segment_adds_nothing(sqlite_lake, tmp_path):
    segment = segment_of_calls(tmp_path, calls_per_lead=10)
    store = DuckLakeStore(lake_url(sqlite_lake))
    try:
        assert store.ingest(segment) == 20
        assert store.ingest(segment) == 0  # a crash between commit and removal: replayed
    finally:
        store.close()
    assert counts(sqlite_lake) == (20, 20)


def test_a_segment_that_cannot_fit_is_set_aside_and_one_that_can_is_kept(sqlite_lake, tmp_path):
    good = segment_of_calls(tmp_path, calls_per_lead=1)
    rows = read_rows(tmp_path / "source-0.duckdb")
    bad = Spool(tmp_path / "spool").append([{**rows[0], "request_data": "{not json"}])
    store = DuckLakeStore(lake_url(sqlite_lake))
    try:
        with pytest.raises(SegmentRejectedError, match="do not fit enrichment_logs"):
            store.ingest(bad)
        assert store.ingest(good) == 2
    finally:
        store.close()


def test_two_writers_committing_the_same_rows_at_once_leave_one_copy(
    postgres_lake, tmp_path, caplog
):
    """Their anti-joins cannot see each other's uncommitted rows: the later commit removes its
    copies. Repeated until the race happened at least once (it almost always does at once)."""
    caplog.set_level(logging.INFO, logger="enrichment_logs.export.ducklake_store")
    stores = [DuckLakeStore(lake_url(postgres_lake)) for _ in range(2)]
    try:
        for round_number in range(8):
            segment = segment_of_calls(tmp_path, calls_per_lead=10)
            copies = [segment.with_name(f"copy-{round_number}-{n}.jsonl") for n in range(2)]
            for copy in copies:
                shutil.copy(segment, copy)
            start = threading.Barrier(2)

            def write(store: DuckLakeStore, copy: Path, start: threading.Barrier = start) -> None:
                start.wait()
                store.ingest(copy)

            writers = [
                threading.Thread(target=write, args=pair)
                for pair in zip(stores, copies, strict=True)
            ]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join(timeout=60)
            rows, ids = counts(postgres_lake)
            assert rows == ids == 20 * (round_number + 1)
            if "another writer committed at the same time" in caplog.text:
                break
        assert "another writer committed at the same time" in caplog.text
    finally:
        for store in stores:
            store.close()


def test_compact_merges_small_files_and_removes_a_second_copy(capsys, sqlite_lake, tmp_path):
    write_calls(sqlite_lake, batches=4, calls_per_lead=6)  # four small data files
    with connect_lake(lake_url(sqlite_lake), read_only=False) as connection:
        # What a writer that died between its commit and its check would leave behind.
        connection.execute("INSERT INTO enrichment_logs SELECT * FROM enrichment_logs LIMIT 3")
    assert counts(sqlite_lake) == (51, 48)

    code, out, err = run(capsys, "store", "compact", "--store", sqlite_lake, "--keep", "1s")

    assert code == 0, err
    assert "data files -> 1," in out
    assert "3 duplicate rows removed" in out
    assert counts(sqlite_lake) == (48, 48)


def test_compact_needs_a_lake(capsys, tmp_path):
    code, _, err = run(capsys, "store", "compact", "--store", str(tmp_path / "logs.duckdb"))
    assert code == 2
    assert "needs no compaction: give a DuckLake" in err
