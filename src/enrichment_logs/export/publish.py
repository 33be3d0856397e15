"""`LakePublisher`: the table published as a DuckLake, so that readers never open the live file.

While a process writes a DuckDB file, no other process can open it, not even read-only, and a
reader that holds it (the DuckDB CLI, Grafana's plugin) keeps the writer out. So the writer, in
its export thread and after rows are committed, publishes the table into a DuckLake with a SQLite
catalog in the publish directory (`published_lake`: `<dir>/enrichment_logs.sqlite`, data files
under `<dir>/data/`), with the table's schema and the analytics views. Readers attach it
read-only, with no lock on anything the writer waits for: each query reads one committed
snapshot, so a reader never sees a half-published state nor a row twice, and a file a snapshot
no longer needs is deleted only once `FILE_GRACE` old, so a running query never loses its files.
(Parquet files replaced in place could not promise that: DuckDB opens a file more than once per
query, and a replacement in between failed about one query in 2 000.)

What changed is read from the table, not from the batches: per UTC day of `started_at`, the
table's (row count, XOR of its ids' hashes) is compared with the lake's. For a day that differs,
one lake transaction deletes the ids the table no longer holds and inserts the ids the lake lacks
(anti-joins on `id`, never a rewrite of the day). So a crash between commit and publish, a
replayed spool segment, rows deleted by `retain` or `forget`, and a new column (the schema
files' migrations are applied to the lake as to a lake store; a column added by other means is
added and every row republished, in one transaction) are all put right by the next publish, each
row once. The writer's database and the lake live in separate DuckDB instances (a
DuckLake failure must never touch the writer's), so the anti-joins exchange ids and rows through
Parquet files in a private staging directory.

Cost: publishing takes at most `MAX_SHARE` of the writer thread's time: the first publish waits one
interval after start (opening the lake costs ~0.1 s of CPU, a new lake ~0.5 s, which a pipeline's
first seconds should not pay), after a publish that took `d` seconds the next waits `max(interval,
d / MAX_SHARE)`, and one publish in the writer thread starts no new day after
`CYCLE_BUDGET_SECONDS` (the other days follow, newest first, in later publishes). Flush and
shutdown publish everything pending. Every `MAINTENANCE_INTERVAL_SECONDS` the lake is tidied
(`lake_maintenance.tidy`): the small files of each publish merged, snapshots older than
`FILE_GRACE` expired, files unreferenced for that long deleted.

Rows are personal data: the directory is created 0o700 and every file and directory in it is
0o600 / 0o700, plus the read bits the user granted on the directory (say, to a Grafana group). A
failure (a file where the directory should be, a read-only directory, a full disk) is logged once
while it lasts and retried later; it never touches the table or the export.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.export.duckdb_store import TABLE
from enrichment_logs.export.ducklake_store import ensure_views, migrate_lake
from enrichment_logs.export.lake import LAKE, connect_lake, rollback, sql_literal
from enrichment_logs.export.lake_maintenance import FILE_GRACE, tidy
from enrichment_logs.export.spool import fsync_directory, make_private_directory
from enrichment_logs.export.store_url import DuckLakeUrl

_logger = logging.getLogger(__name__)

CATALOG_NAME: Final = "enrichment_logs.sqlite"
"""The published lake's SQLite catalog, in the publish directory."""
DATA_DIR: Final = "data"
"""The published lake's Parquet data files, under the publish directory."""
MAX_SHARE: Final = 0.05
"""The largest share of the export thread's time that publishing may take."""
CYCLE_BUDGET_SECONDS: Final = 1.0
"""In the export path, no new day is started after this long (one day is always published)."""
MAINTENANCE_INTERVAL_SECONDS: Final = 600.0
"""How often the published lake's small files are merged and its old snapshots expired."""

_STAGING: Final = ".staging"
_STAGED: Final = ("ids", "missing", "rows")
_NEW_CATALOG: Final = ".enrichment_logs.sqlite.new"
_EPOCH: Final = date(1970, 1, 1)
_MICROSECONDS_PER_DAY: Final = 86_400_000_000
_DAY_FINGERPRINTS: Final = (
    f"SELECT epoch_us(started_at) // {_MICROSECONDS_PER_DAY} AS day_number, count(*) AS day_rows, "
    f"bit_xor(hash(id)) AS ids FROM {TABLE} GROUP BY day_number"
)
_DAY: Final = "started_at >= $start AND started_at < $end"
_abandoned: list[duckdb.DuckDBPyConnection] = []
"""Lake connections an internal DuckDB error invalidated: never closed (closing one aborts)."""


def published_lake(directory: Path) -> DuckLakeUrl:
    """The DuckLake a writer publishes into `directory`."""
    return DuckLakeUrl("sqlite", str(directory / CATALOG_NAME), str(directory / DATA_DIR))


def is_published(directory: Path) -> bool:
    """Whether a writer has published into `directory` (its lake is created whole, at once)."""
    return (directory / CATALOG_NAME).is_file()


class LakePublisher:
    """Publishes the `enrichment_logs` table of one writer's connection; see the module doc.

    Not thread-safe: the exporter calls it from its export thread, holding its lock.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        interval_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        maintenance_interval_seconds: float = MAINTENANCE_INTERVAL_SECONDS,
        file_grace: timedelta = FILE_GRACE,
    ) -> None:
        if not interval_seconds > 0:
            raise ValueError("the publish interval must be greater than 0 (0 means no publisher)")
        self.directory = Path(directory)
        self.lake = published_lake(self.directory)
        self._interval = interval_seconds
        self._clock = clock
        self._maintenance_interval = maintenance_interval_seconds
        self._file_grace = file_grace
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._published: dict[date, tuple[int, int]] | None = None  # None until read from the lake
        self._rows_written_published: int | None = None  # None: reconcile with the table first
        self._due_at = clock() + interval_seconds
        self._maintain_at = clock() + maintenance_interval_seconds
        self._failing: str | None = None

    def publish_if_due(self, connection: duckdb.DuckDBPyConnection, rows_written: int) -> None:
        """After a batch: publish if rows were committed since the last complete publish and the
        throttle allows it. `rows_written` is the exporter's running count of inserted rows."""
        if self._clock() < self._due_at:
            return
        if rows_written == self._rows_written_published and self._clock() < self._maintain_at:
            return
        self._publish(connection, rows_written, stop_after=CYCLE_BUDGET_SECONDS)

    def publish_pending(self, connection: duckdb.DuckDBPyConnection, rows_written: int) -> None:
        """At flush and shutdown: publish every pending day now, whatever the throttle says."""
        if rows_written != self._rows_written_published:
            self._publish(connection, rows_written, stop_after=None)

    def close(self) -> None:
        """Close the connection to the published lake (publishing again reopens it)."""
        self._forget_lake()

    def abandon_after_fork(self) -> None:
        """In a forked child: the inherited lake connection is the parent's, so it is set aside
        unclosed (closing it would write to the parent's catalog)."""
        self._forget_lake(invalidated=True)

    def _publish(
        self, connection: duckdb.DuckDBPyConnection, rows_written: int, stop_after: float | None
    ) -> None:
        started = self._clock()
        try:
            complete = self._publish_changed_days(
                connection, None if stop_after is None else started + stop_after
            )
            if self._clock() >= self._maintain_at:
                self._maintain()
        except Exception as exc:  # publishing must never cost the export or the table anything
            self._failed(exc)
        else:
            self._recovered()
            if complete:
                self._rows_written_published = rows_written
        spent = self._clock() - started
        self._due_at = started + max(self._interval, spent / MAX_SHARE)

    def _publish_changed_days(
        self, connection: duckdb.DuckDBPyConnection, stop_at: float | None
    ) -> bool:
        """Publish the days whose fingerprint differs, newest first. False when `stop_at`
        passed before every changed day was published."""
        lake = self._open_lake()
        published = self._published_days(connection, lake)
        current = _fingerprints(connection)
        changed = {
            day
            for day in current.keys() | published.keys()
            if published.get(day) != current.get(day)
        }
        try:
            for count, day in enumerate(sorted(changed, reverse=True)):
                if count and stop_at is not None and self._clock() > stop_at:
                    return False
                rows = (published.get(day, (0, 0))[0], current.get(day, (0, 0))[0])
                self._publish_day(connection, lake, day, rows)
                if day in current:
                    published[day] = current[day]
                else:
                    published.pop(day, None)
        finally:
            if changed:
                restrict(self.directory)
        return True

    def _open_lake(self) -> duckdb.DuckDBPyConnection:
        """The published lake, opened once (and created whole, then renamed into place, so a
        reader never finds half a catalog)."""
        if self._connection is not None:
            return self._connection
        make_private_directory(self.directory)
        staging = self.directory / _STAGING
        shutil.rmtree(staging, ignore_errors=True)  # left by a writer that crashed
        staging.mkdir(mode=0o700)
        if not is_published(self.directory):
            self._create_lake()
        self._connection = connect_lake(self.lake, read_only=False)
        self._published = None
        try:
            migrate_lake(self._connection, str(self.lake))
            ensure_views(self._connection)
        except BaseException:
            self._forget_lake()
            raise
        return self._connection

    def _create_lake(self) -> None:
        new = self.directory / _NEW_CATALOG
        for leftover in self.directory.glob(_NEW_CATALOG + "*"):
            leftover.unlink()
        creating = DuckLakeUrl("sqlite", str(new), self.lake.data_path)
        connection = connect_lake(creating, read_only=False, create=True)
        try:
            migrate_lake(connection, str(self.lake))
            ensure_views(connection)
        finally:
            connection.close()  # checkpoints the catalog: no -wal file is left beside it
        restrict(self.directory)
        os.replace(new, self.directory / CATALOG_NAME)
        fsync_directory(self.directory)

    def _published_days(
        self, connection: duckdb.DuckDBPyConnection, lake: duckdb.DuckDBPyConnection
    ) -> dict[date, tuple[int, int]]:
        """What the lake holds per day: read from the lake once, then kept up to date (only
        this writer, which holds the database's lock, writes the lake)."""
        if self._published is None:
            missing = _missing_columns(connection, lake)
            if missing:
                self._republish_with_columns(connection, lake, missing)
            self._published = _fingerprints(lake)
        return self._published

    def _republish_with_columns(
        self,
        connection: duckdb.DuckDBPyConnection,
        lake: duckdb.DuckDBPyConnection,
        columns: list[tuple[str, str]],
    ) -> None:
        """Columns the table has and the lake lacks (added to the table by hand: the schema
        files' migrations reach the lake on their own): added, and every row published again
        with the table's values, in one transaction, so a crash leaves the columns missing and
        the next writer does it again."""
        with _staged(self.directory / _STAGING) as (_, _, rows):
            connection.execute(f"COPY {TABLE} TO {sql_literal(str(rows))} (FORMAT parquet)")
            lake.execute("BEGIN TRANSACTION")
            try:
                for name, kind in columns:
                    quoted = '"' + name.replace('"', '""') + '"'
                    lake.execute(f"ALTER TABLE {LAKE}.main.{TABLE} ADD COLUMN {quoted} {kind}")
                lake.execute(f"DELETE FROM {TABLE}")
                lake.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM {_read(rows)}")
                lake.execute("COMMIT")
            except BaseException:
                rollback(lake)
                raise

    def _publish_day(
        self,
        connection: duckdb.DuckDBPyConnection,
        lake: duckdb.DuckDBPyConnection,
        day: date,
        rows: tuple[int, int],
    ) -> None:
        """One lake transaction: delete the day's rows the table no longer holds, insert the
        rows the lake lacks. `rows` is the day's row count in the lake and in the table: when
        the lake's rows plus the missing ones make the table's, the lake holds no row the table
        lacks, and the delete is skipped."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        span = {"start": start, "end": start + timedelta(days=1)}
        with _staged(self.directory / _STAGING) as (ids, missing, new_rows):
            table_ids, missing_ids = _read(ids), _read(missing)
            connection.execute(
                f"COPY (SELECT id FROM {TABLE} WHERE {_DAY}) TO {sql_literal(str(ids))} "
                "(FORMAT parquet)",
                span,
            )
            lake.execute("BEGIN TRANSACTION")
            try:
                found = lake.execute(
                    f"COPY (SELECT id FROM {table_ids} WHERE id NOT IN (SELECT id FROM {TABLE} "
                    f"WHERE {_DAY})) TO {sql_literal(str(missing))} (FORMAT parquet)",
                    span,
                ).fetchone()
                missing_count = int(found[0]) if found else 0
                lake_rows, table_rows = rows
                if lake_rows + missing_count != table_rows:
                    lake.execute(
                        f"DELETE FROM {TABLE} WHERE {_DAY} AND id NOT IN (SELECT id FROM "
                        f"{table_ids})",
                        span,
                    )
                if missing_count:
                    connection.execute(
                        f"COPY (SELECT * FROM {TABLE} WHERE {_DAY} AND id IN (SELECT id FROM "
                        f"{missing_ids})) TO {sql_literal(str(new_rows))} (FORMAT parquet)",
                        span,
                    )
                    lake.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM {_read(new_rows)}")
                lake.execute("COMMIT")
            except BaseException:
                rollback(lake)
                raise

    def _maintain(self) -> None:
        lake = self._open_lake()
        tidy(lake, keep=self._file_grace, grace=self._file_grace)
        restrict(self.directory)
        self._maintain_at = self._clock() + self._maintenance_interval

    def _forget_lake(self, invalidated: bool = False) -> None:
        """Drop the lake connection (reopened, and its days re-read, next time); one an
        internal DuckDB error invalidated is set aside unclosed, since closing it would abort."""
        connection, self._connection = self._connection, None
        self._published = None
        if connection is None:
            return
        if invalidated:
            _abandoned.append(connection)
        else:
            with suppress(duckdb.Error):
                connection.close()

    def _failed(self, exc: Exception) -> None:
        """Log once when a kind of failure starts, not at every publish while it lasts."""
        self._forget_lake(
            invalidated=isinstance(exc, duckdb.InternalException | duckdb.FatalException)
        )
        kind = type(exc).__name__
        if self._failing != kind:
            self._failing = kind
            _logger.warning(
                "could not publish the table to %s (readers of the published lake see older "
                "rows until it works again; the database and the spool are not affected): %s",
                self.directory,
                exc,
            )

    def _recovered(self) -> None:
        if self._failing is not None:
            self._failing = None
            _logger.warning("publishing to %s works again", self.directory)


@contextmanager
def _staged(directory: Path) -> Iterator[tuple[Path, Path, Path]]:
    """Three Parquet files in the private staging directory (the day's ids in the table, the
    ids the lake lacks, their rows), removed afterwards."""
    ids, missing, rows = (directory / f"{name}-{os.getpid()}.parquet" for name in _STAGED)
    try:
        yield ids, missing, rows
    finally:
        for path in (ids, missing, rows):
            path.unlink(missing_ok=True)


def restrict(directory: Path) -> None:
    """Every file under `directory` 0o600 and every directory 0o700, plus the read bits (and,
    for directories, the matching search bits) the user granted on `directory` itself."""
    granted = directory.stat().st_mode & 0o044
    for path, is_dir in _tree(directory):
        wanted = (0o700 | granted | granted >> 2) if is_dir else (0o600 | granted)
        with suppress(FileNotFoundError):  # a file maintenance deleted meanwhile
            if path.stat().st_mode & 0o777 != wanted:
                path.chmod(wanted)


def _tree(directory: Path) -> Iterator[tuple[Path, bool]]:
    for entry in os.scandir(directory):
        is_dir = entry.is_dir(follow_symlinks=False)
        yield Path(entry.path), is_dir
        if is_dir:
            yield from _tree(Path(entry.path))


def _fingerprints(connection: duckdb.DuckDBPyConnection) -> dict[date, tuple[int, int]]:
    """Each UTC day's (row count, XOR of the ids' hashes) in the connection's table."""
    return {
        _EPOCH + timedelta(days=day_number): (day_rows, ids)
        for day_number, day_rows, ids in connection.execute(_DAY_FINGERPRINTS).fetchall()
    }


def _read(path: Path) -> str:
    return f"read_parquet({sql_literal(str(path))})"


def _missing_columns(
    connection: duckdb.DuckDBPyConnection, lake: duckdb.DuckDBPyConnection
) -> list[tuple[str, str]]:
    """(name, type) of the columns the writer's table has and the lake's lacks, in order."""
    query = (
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = current_schema() AND table_catalog = current_database() "
        "ORDER BY ordinal_position"
    )
    present = {name for name, _ in lake.execute(query, [TABLE]).fetchall()}
    return [
        (name, kind)
        for name, kind in connection.execute(query, [TABLE]).fetchall()
        if name not in present
    ]
