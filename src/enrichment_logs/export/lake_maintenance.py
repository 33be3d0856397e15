"""What a DuckLake needs besides writes: compaction, and moving a DuckDB file's log into it.

Compaction (`enrichment-logs store compact`, e.g. hourly or nightly). Every batch a writer commits
adds a small Parquet file (or, up to 10 rows, rows inlined in the catalog) and a snapshot, so a
busy lake collects thousands of small files and snapshots. Compaction flushes the inlined rows to
files, merges adjacent small files, rewrites files that are mostly deleted rows, removes the rare
second copy of a row that two writers committed at the same moment (`ducklake_store`), expires
snapshots older than the time-travel window to keep and deletes the files nothing references any
more. It runs while writers and readers work: DuckLake keeps the merge out of their way, and files
are only deleted once no kept snapshot needs them (a reader still scanning one expired seconds ago
is the only one that can notice).

Migration (`enrichment-logs store migrate`). The file's rows are copied in batches of ids, each
batch one transaction that inserts only the ids the lake does not hold: run it again after an
interruption (or while the old pipeline still writes the file) and it copies only what is missing,
each row once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.export.duckdb_store import TABLE, StoreError, is_duckdb_file
from enrichment_logs.export.ducklake_store import DuckLakeStore, remove_duplicates
from enrichment_logs.export.lake import LAKE, connect_lake, retrying_conflicts, sql_literal
from enrichment_logs.export.store_url import DuckLakeUrl

DEFAULT_KEEP: Final = timedelta(days=7)
"""Snapshots (time travel) kept by `compact` unless told otherwise."""
FILE_GRACE: Final = timedelta(hours=1)
"""Files no snapshot references are deleted once this old: a reader that began on an expired
snapshot, or a writer about to commit a file, has that long to finish."""
MIGRATE_BATCH_ROWS: Final = 50_000

_SOURCE: Final = "migrate_source"


@dataclass(frozen=True)
class Compaction:
    data_files_before: int
    data_files_after: int
    duplicates_removed: int
    snapshots_expired: int
    files_deleted: int


@dataclass(frozen=True)
class MigrationBatch:
    rows_read: int
    rows_inserted: int


def compact(url: DuckLakeUrl, *, keep: timedelta = DEFAULT_KEEP) -> Compaction:
    """Compact the lake (see the module doc); raises `StoreError`."""
    connection = connect_lake(url, read_only=False)
    try:
        before = _data_files(connection)
        for call in (
            f"CALL ducklake_flush_inlined_data('{LAKE}')",
            f"CALL ducklake_merge_adjacent_files('{LAKE}')",
            f"CALL ducklake_rewrite_data_files('{LAKE}')",
        ):
            retrying_conflicts(connection, functools.partial(connection.execute, call), what=call)
        duplicates = remove_duplicates(connection)
        expired, deleted = _expire_and_delete(connection, keep=keep, grace=FILE_GRACE)
        return Compaction(before, _data_files(connection), duplicates, expired, deleted)
    except duckdb.Error as exc:
        raise StoreError(f"could not compact {url}: {exc}") from exc
    finally:
        connection.close()


def tidy(connection: duckdb.DuckDBPyConnection, *, keep: timedelta, grace: timedelta) -> int:
    """Compaction for a lake with a single writer, run by that writer (the published lake of a
    DuckDB file, `export.publish`): merge adjacent small files, rewrite files that are mostly
    deleted rows, expire snapshots older than `keep` and delete the files unreferenced for
    `grace`. Returns the number of files deleted. Raises `duckdb.Error`."""
    for call in (
        f"CALL ducklake_merge_adjacent_files('{LAKE}')",
        f"CALL ducklake_rewrite_data_files('{LAKE}')",
    ):
        connection.execute(call)
    return _expire_and_delete(connection, keep=keep, grace=grace)[1]


def _expire_and_delete(
    connection: duckdb.DuckDBPyConnection, *, keep: timedelta, grace: timedelta
) -> tuple[int, int]:
    """Expire snapshots older than `keep`, then delete the files no kept snapshot references
    (and files no commit ever referenced) once `grace` old; (snapshots expired, files deleted)."""
    now = datetime.now(UTC)
    # Each returns a row per snapshot or file it removed (`SELECT count(*)` would skip the work).
    expired = _rows(
        connection, "ducklake_expire_snapshots", _expiry_cutoff(connection, now, keep, grace)
    )
    deleted = _rows(connection, "ducklake_cleanup_old_files", now - grace) + _rows(
        connection, "ducklake_delete_orphaned_files", now - grace
    )
    return expired, deleted


def migrate(
    source: Path,
    target: DuckLakeUrl,
    *,
    batch_rows: int = MIGRATE_BATCH_ROWS,
    on_batch: Callable[[MigrationBatch], None] = lambda _: None,
) -> int:
    """Copy every row of the DuckDB file `source` that the lake lacks; returns rows inserted.

    The lake is created and migrated first if needed. Raises `StoreError` (a file that is not a
    DuckDB database, one a writer holds, a lake that cannot be written).
    """
    if not source.is_file() or not is_duckdb_file(source):
        raise StoreError(f"{source} is not a DuckDB database: give the file to migrate from")
    store = DuckLakeStore(target)
    connection = store.connection
    try:
        connection.execute(f"ATTACH {sql_literal(str(source))} AS {_SOURCE} (READ_ONLY)")
        inserted = 0
        for batch in _batches(connection, batch_rows):
            inserted += batch.rows_inserted
            on_batch(batch)
        return inserted
    except duckdb.Error as exc:
        message = str(exc)
        if "lock" in message.lower():
            message = f"a process is writing {source}; stop it first ({message})"
        raise StoreError(f"could not migrate {source} to {target}: {message}") from exc
    finally:
        store.close()


def _batches(connection: duckdb.DuckDBPyConnection, batch_rows: int) -> Iterator[MigrationBatch]:
    """Consecutive id ranges of the source, each inserted (what the lake lacks) in one commit."""
    after = None
    while True:
        bounds = connection.execute(
            f"SELECT count(*), max(id) FROM (SELECT id FROM {_SOURCE}.main.{TABLE} "
            "WHERE $after IS NULL OR id > $after ORDER BY id LIMIT $rows)",
            {"after": after, "rows": batch_rows},
        ).fetchone()
        if not bounds or not bounds[0]:
            return
        rows, last = bounds

        def insert(first: object = after, last: object = last) -> int:
            connection.execute("BEGIN TRANSACTION")
            row = connection.execute(
                f"INSERT INTO {LAKE}.main.{TABLE} BY NAME SELECT * FROM {_SOURCE}.main.{TABLE} "
                "AS source WHERE ($first IS NULL OR source.id > $first) AND source.id <= $last "
                f"AND NOT EXISTS (SELECT 1 FROM {LAKE}.main.{TABLE} AS stored "
                "WHERE stored.id = source.id "
                "AND ($first IS NULL OR stored.id > $first) AND stored.id <= $last)",
                {"first": first, "last": last},
            ).fetchone()
            connection.execute("COMMIT")
            return int(row[0]) if row else 0

        yield MigrationBatch(rows, retrying_conflicts(connection, insert, what="migrate rows"))
        after = last


def _data_files(connection: duckdb.DuckDBPyConnection) -> int:
    row = connection.execute(
        f"SELECT count(*) FROM ducklake_list_files('{LAKE}', '{TABLE}')"
    ).fetchone()
    return int(row[0]) if row else 0


def _expiry_cutoff(
    connection: duckdb.DuckDBPyConnection, now: datetime, keep: timedelta, grace: timedelta
) -> datetime:
    """Snapshots older than this may be expired: older than `keep`, and superseded by a commit at
    least `grace` old. A query reads the snapshot that was current when it began; expiring that
    snapshot under it fails the query ("No snapshot found"), however old the snapshot itself is,
    so a reader gets `grace` after the next commit to finish."""
    superseded = connection.execute(
        f"SELECT epoch(max(snapshot_time)) FROM ducklake_snapshots('{LAKE}') "
        "WHERE snapshot_time < $before",
        {"before": now - grace},
    ).fetchone()
    if superseded is None or superseded[0] is None:  # no commit is `grace` old: expire nothing
        return min(now - keep, now - grace)
    return min(now - keep, datetime.fromtimestamp(superseded[0], UTC))


def _rows(connection: duckdb.DuckDBPyConnection, function: str, before: datetime) -> int:
    """Run a clean-up function on what is older than `before`; how many things it removed."""
    return len(
        connection.execute(
            f"CALL {function}('{LAKE}', older_than => $before)", {"before": before}
        ).fetchall()
    )
