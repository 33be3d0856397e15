"""The DuckDB file: created private, migrated once, never damaged when it is not ours."""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from datetime import UTC, datetime

import duckdb
import pytest

from enrichment_logs.export.duckdb_store import (
    DuckDBStore,
    SegmentRejectedError,
    StoreError,
    StoreLockedError,
)
from enrichment_logs.export.spool import Spool


def _row(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    row: dict[str, object] = {
        "id": uuid.uuid4(),
        "trace_id": "0" * 31 + "1",
        "span_id": "0" * 15 + "1",
        "provider": "exa",
        "operation": "search",
        "cost_source": "unknown",
        "currency": "USD",
        "started_at": now,
        "completed_at": now,
        "duration_ms": 0.0,
        "status": "success",
        "retry_count": 0,
        "cache_hit": False,
    }
    row.update(overrides)
    return row


def _digest(path: os.PathLike[str]) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def test_a_new_database_is_private_and_migrated_once(db_path):
    DuckDBStore(db_path).close()
    DuckDBStore(db_path).close()  # reopening applies nothing twice

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    with duckdb.connect(str(db_path)) as connection:
        versions = connection.execute(
            "SELECT version, name FROM enrichment_logs_schema_version"
        ).fetchall()
        tables = connection.execute("SELECT count(*) FROM enrichment_logs").fetchone()
    assert versions == [(1, "001_enrichment_logs.sql"), (2, "002_cost_saved.sql")]
    assert tables == (0,)


def test_the_same_segment_ingested_twice_is_written_once(tmp_path, db_path):
    spool = Spool(tmp_path / "spool")
    segment = spool.append([_row(), _row(), _row()])
    store = DuckDBStore(db_path)
    try:
        assert store.ingest(segment) == 3
        assert store.ingest(segment) == 0
        # The write-ahead log is as private as the file.
        wal = db_path.with_name(db_path.name + ".wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
        # Checkpoints are rare enough for sustained inserts (same process: same database).
        with duckdb.connect(str(db_path)) as connection:
            setting = connection.execute("SELECT current_setting('checkpoint_threshold')")
            assert setting.fetchone() == ("256.0 MiB",)
    finally:
        store.close()


def test_a_segment_that_does_not_fit_the_table_is_rejected_and_nothing_is_written(
    tmp_path, db_path, table_rows
):
    spool = Spool(tmp_path / "spool")
    segment = spool.append([_row(), _row(status="exploded")])
    store = DuckDBStore(db_path)
    try:
        with pytest.raises(SegmentRejectedError, match="do not fit enrichment_logs"):
            store.ingest(segment)
    finally:
        store.close()
    assert table_rows(db_path) == []


@pytest.mark.parametrize(
    "content",
    [
        b"id,provider\n1,exa\n" * 100,
        os.urandom(64 * 1024),
        b"SQLite format 3\x00" + bytes(4096),  # DuckDB itself would try to attach it
        b"",
    ],
    ids=["a text file", "random bytes", "a SQLite file", "an empty file"],
)
def test_a_file_that_is_not_a_database_is_reported_and_left_untouched(db_path, content):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    before = _digest(db_path)

    with pytest.raises(StoreError, match="is not a DuckDB database") as raised:
        DuckDBStore(db_path)

    assert "the file was left untouched" in str(raised.value)
    assert str(db_path) in str(raised.value)
    assert _digest(db_path) == before
    assert sorted(os.listdir(db_path.parent)) == [db_path.name]


def test_a_duckdb_file_with_someone_elses_enrichment_logs_table_is_left_alone(db_path):
    db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("CREATE TABLE enrichment_logs (anything INTEGER)")
    before = _digest(db_path)

    with pytest.raises(StoreError, match="did not create"):
        DuckDBStore(db_path)

    assert _digest(db_path) == before


def test_a_file_held_by_another_process_raises_a_clear_locked_error(
    db_path, another_process_holding
):
    DuckDBStore(db_path).close()

    with another_process_holding(db_path), pytest.raises(StoreLockedError) as raised:
        DuckDBStore(db_path)

    assert "held by another process" in str(raised.value)
    DuckDBStore(db_path).close()  # released: opens again
