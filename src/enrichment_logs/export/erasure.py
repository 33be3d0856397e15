"""Deleting rows for good, on every store: retention (`retain`) and erasure (`forget`).

Lead data is personal data, and a deleted row must not stay reachable anywhere a reader can look:

1. Rows still waiting in the store's spool are written first (through the exporter, with the
   same segment claims as any writer), so none lands after the deletion.
2. The rows are deleted in one transaction (on a DuckLake, redone while concurrent inserts
   conflict with it).
3. History: a DuckDB file is checkpointed (the deleted rows leave its WAL). A DuckLake's inlined
   rows are flushed, every data file with deleted rows is rewritten, every older snapshot is
   expired and the files no snapshot references are deleted, so time travel (`AT (VERSION =>
   n)`) cannot reach them either.
4. The published lake of a DuckDB file (`export.publish`): the publisher's own code deletes the
   rows from it, its history is erased as a DuckLake store's is (3.), then the lake is checked
   for the rows.

Both the request and response content (`request_data`, `response_data`) live in the deleted
rows, so they go with them. What this cannot reach: copies outside the store (backups, exports,
`*.rejected` spool files kept for inspection) and, inside the catalog database or a DuckDB file,
the bytes of deleted rows in free pages until they are reused (or, for PostgreSQL, vacuumed);
no query reads those.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.config import Settings
from enrichment_logs.export.duckdb_store import TABLE, DuckDBStore, StoreError, StoreLockedError
from enrichment_logs.export.lake import LAKE, connect_lake, retrying_conflicts
from enrichment_logs.export.publish import LakePublisher, is_published
from enrichment_logs.export.store_url import DuckDBUrl, StoreUrl

DELETE_RETRY_SECONDS: Final = 120.0
"""How long a deletion on a DuckLake is retried while writers' inserts conflict with it."""
ORPHAN_GRACE: Final = timedelta(hours=1)
"""Unreferenced lake files younger than this may be a running writer's next commit: kept."""


@dataclass(frozen=True)
class Selection:
    """Which rows to delete: a WHERE clause with named parameters, and how to say it."""

    where: str
    parameters: Mapping[str, object] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Deletion:
    """What a deletion did."""

    rows_deleted: int
    rows_written_from_spool: int
    published_dir: Path | None
    """The publish directory that was brought up to date, if the store has one."""
    snapshots_expired: int = 0
    files_removed: int = 0


def lead_rows(lead_id: str) -> Selection:
    return Selection("lead_id = $value", {"value": lead_id}, f"lead {lead_id}")


def company_rows(company_id: str) -> Selection:
    return Selection("company_id = $value", {"value": company_id}, f"company {company_id}")


def rows_older_than(days: int) -> Selection:
    return Selection(
        "started_at < now() - to_days(CAST($days AS INTEGER))",
        {"days": days},
        f"calls started more than {days} days ago",
    )


def delete_rows(
    settings: Settings, selection: Selection, *, wait_seconds: float = 60.0
) -> Deletion:
    """Delete the selected rows from the store `settings` name, its history and its published
    files (see the module doc). Raises `StoreError` when the store cannot be changed.

    A DuckDB file held by a writer is waited for up to `wait_seconds` (a pipeline that runs and
    exits); a DuckLake is changed while its writers run.
    """
    url = settings.resolved_store
    _require_existing(url)
    from_spool = _write_spool(settings)
    publish_dir = (
        settings.resolved_publish_dir if is_published(settings.resolved_publish_dir) else None
    )
    if isinstance(url, DuckDBUrl):
        store = _open_when_free(url.path, wait_seconds)
        try:
            deleted = _delete(store.connection, selection)
            store.connection.execute("CHECKPOINT")
            _republish(store.connection, publish_dir, selection)
        except duckdb.Error as exc:
            raise StoreError(f"could not delete the {selection.description} rows: {exc}") from exc
        finally:
            store.close()
        return Deletion(deleted, from_spool, publish_dir)
    connection = connect_lake(url, read_only=False)
    try:
        deleted = retrying_conflicts(
            connection,
            lambda: _delete(connection, selection),
            what=f"delete the {selection.description} rows",
            seconds=DELETE_RETRY_SECONDS,
        )
        expired, removed = erase_history(connection)
        _republish(connection, publish_dir, selection)
    except duckdb.Error as exc:
        raise StoreError(f"could not delete the {selection.description} rows: {exc}") from exc
    finally:
        connection.close()
    return Deletion(deleted, from_spool, publish_dir, expired, removed)


def erase_history(connection: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Make deleted rows unreachable in the lake: flush inlined rows, rewrite every data file
    with deletes, expire every snapshot but the current one, delete the files none references
    (and files no commit ever referenced, left by a writer that died, once `ORPHAN_GRACE` old:
    a younger one may be a running writer's next commit). Returns (snapshots expired, files
    deleted)."""
    for call in (
        f"CALL ducklake_flush_inlined_data('{LAKE}')",
        f"CALL ducklake_rewrite_data_files('{LAKE}', delete_threshold => 0)",
    ):
        retrying_conflicts(connection, functools.partial(connection.execute, call), what=call)
    # Each returns a row per snapshot or file it removed (`SELECT count(*)` would skip the work).
    expired = connection.execute(
        f"CALL ducklake_expire_snapshots('{LAKE}', older_than => now())"
    ).fetchall()
    removed = connection.execute(
        f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)"
    ).fetchall()
    orphans = connection.execute(
        f"CALL ducklake_delete_orphaned_files('{LAKE}', older_than => $before)",
        {"before": datetime.now(UTC) - ORPHAN_GRACE},
    ).fetchall()
    return len(expired), len(removed) + len(orphans)


def _delete(connection: duckdb.DuckDBPyConnection, selection: Selection) -> int:
    connection.execute("BEGIN TRANSACTION")
    row = connection.execute(
        f"DELETE FROM {TABLE} WHERE {selection.where}", dict(selection.parameters)
    ).fetchone()
    connection.execute("COMMIT")
    return int(row[0]) if row else 0


def _require_existing(url: StoreUrl) -> None:
    """Deleting from a store that is not there must not create one."""
    if isinstance(url, DuckDBUrl) and not url.path.is_file():
        raise StoreError(f"{url.path} does not exist: give the store the pipeline writes to")


def _write_spool(settings: Settings) -> int:
    """Write the rows waiting in the store's spool, so none lands after the deletion."""
    spool_dir = settings.resolved_spool_dir
    if not spool_dir.is_dir() or not any(spool_dir.glob("*.jsonl")):
        return 0
    from enrichment_logs.export.exporter import DuckDBSpanExporter

    exporter = DuckDBSpanExporter(
        store=settings.resolved_store, spool_dir=spool_dir, publish_interval_seconds=0
    )
    try:
        exporter.force_flush()
    finally:
        exporter.shutdown()
    return exporter.stats.rows_written


def _open_when_free(path: Path, wait_seconds: float) -> DuckDBStore:
    """The file opened for writing, once the process holding it lets go."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return DuckDBStore(path)
        except StoreLockedError as exc:
            if time.monotonic() > deadline:
                raise StoreLockedError(
                    f"{exc} -- waited {wait_seconds:.0f} s; run this when the pipeline is not "
                    "writing the file (or give a longer --wait)"
                ) from exc
            time.sleep(0.5)


def _republish(
    connection: duckdb.DuckDBPyConnection, directory: Path | None, selection: Selection
) -> None:
    """Delete the rows from the published lake and its history, then make sure it holds none.

    The publisher logs a failure instead of raising (it must never disturb an export); here a
    lake that still holds deleted rows is an error.
    """
    if directory is None:
        return
    publisher = LakePublisher(directory, interval_seconds=1.0)
    try:
        publisher.publish_pending(connection, rows_written=-1)
    finally:
        publisher.close()
    lake = connect_lake(publisher.lake, read_only=False)
    try:
        erase_history(lake)
        left = lake.execute(
            f"SELECT count(*) FROM {TABLE} WHERE {selection.where}", dict(selection.parameters)
        ).fetchone()
    finally:
        lake.close()
    if left and left[0]:
        raise StoreError(
            f"{left[0]} of the {selection.description} rows are still in the lake published in "
            f"{directory}: they could not be deleted (see the warning above); fix the directory "
            "and run this again"
        )
