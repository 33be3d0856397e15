"""The DuckDB file that holds the `enrichment_logs` table: open, migrate, ingest spool segments.

The table is defined only by the SQL files in `schema/` (`NNN_name.sql`, applied in order once
each, recorded in `enrichment_logs_schema_version`). The column list used for ingest is read back
from the database after migrating, so Python never restates it.

Segments are inserted with one `INSERT OR IGNORE ... SELECT ... FROM read_json([...])` statement,
which is atomic and keyed on the row id: replaying a segment, whole or in part, adds nothing.
Measured ~55-60k rows/s of ~1 KB rows (segments of 2048), where `executemany` against a primary
key manages a few hundred.

A file that is not a DuckDB database, or is locked by another process, raises a clear
`StoreError` and is never modified, truncated or deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Final

import duckdb

TABLE: Final = "enrichment_logs"
VERSION_TABLE: Final = "enrichment_logs_schema_version"
CHECKPOINT_THRESHOLD: Final = "256MiB"
"""DuckDB's default (16 MB) checkpoints so often that sustained inserts slow down (measured
here: 33k rows/s at the default, 52k at this). The WAL grows up to this size between checkpoints
and is replayed on the next open after a crash."""

_MAGIC: Final = b"DUCK"
_MAGIC_OFFSET: Final = 8  # after the header checksum
_MIGRATION_NAME: Final = re.compile(r"^(\d{3})_\w+\.sql$")
_DEFAULT_MAX_OBJECT_BYTES: Final = 16 * 1024 * 1024
"""`read_json` refuses longer lines; a segment's own size is always enough for any of its rows."""
DATA_ERRORS: Final = (
    duckdb.ConversionException,
    duckdb.ConstraintException,
    duckdb.InvalidInputException,
)
"""Errors that mean "this segment's data cannot go into this table", not "the store is down"."""


class StoreError(Exception):
    """The store cannot be opened or written; rows stay in the spool."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file's lock (a writer, or a reader such as Grafana)."""


class SegmentRejectedError(StoreError):
    """A segment's rows do not fit the table; retrying it can never succeed."""


class DuckDBStore:
    """One open, migrated DuckDB file; not thread-safe (the exporter serialises calls)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            if not created:
                _check_header(self.path)
            self._connection = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            raise _open_error(self.path, exc) from exc
        try:
            if created:
                self.path.chmod(0o600)
            # The WAL holds the same rows; keep it as private as the file (a user may have
            # opened the file to a Grafana group on purpose).
            self._private = not self.path.stat().st_mode & 0o077
            self._connection.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            _migrate(self._connection, self.path)
            _create_views(self._connection)
            self._restrict_wal()
            self._insert = _ingest_statement(self._connection)
        except (duckdb.Error, OSError) as exc:
            self._connection.close()
            raise StoreError(f"could not prepare {self.path} for writing: {exc}") from exc
        except BaseException:
            self._connection.close()
            raise

    def ingest(self, *segments: Path) -> int:
        """Insert the segments' rows in one statement, skipping ids already present; returns
        rows inserted.

        Raises `SegmentRejectedError` when the data cannot fit the table and `StoreError` when
        the database could not be written; either way nothing of the segments was committed.
        """
        parameters = segment_parameters(segments)
        if parameters is None:
            return 0  # another process ingested and removed them
        try:
            result = self._connection.execute(self._insert, parameters).fetchone()
        except duckdb.Error as exc:
            error = ingest_failure(exc, segments, parameters, self.path)
            if error is None:
                return 0
            raise error from exc
        self._restrict_wal()
        return int(result[0]) if result else 0

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The writer's connection, for work in its thread on what it committed (publishing)."""
        return self._connection

    def close(self) -> None:
        """Checkpoint and release the file lock."""
        self._connection.close()

    def _restrict_wal(self) -> None:
        """Owner-only access: rows carry lead ids and, when captured, request bodies."""
        if self._private:
            keep_wal_private(self.path)


def keep_wal_private(path: Path) -> None:
    """Make a DuckDB file's WAL owner-only. DuckDB creates it afresh after every checkpoint,
    with the umask's mode, so a writer calls this after each write."""
    wal = path.with_name(path.name + ".wal")
    with contextlib.suppress(FileNotFoundError):  # DuckDB removes it at each checkpoint
        if wal.stat().st_mode & 0o077:
            wal.chmod(0o600)


def is_duckdb_file(path: Path) -> bool:
    """Whether the file starts with DuckDB's header (read without letting DuckDB open it)."""
    with path.open("rb") as file:
        header = file.read(_MAGIC_OFFSET + len(_MAGIC))
    return header[_MAGIC_OFFSET:] == _MAGIC


def _check_header(path: Path) -> None:
    """Refuse a file that is not DuckDB before DuckDB sees it.

    Given a SQLite file, DuckDB would download its SQLite extension (failing offline after a
    timeout) and then open that file for writing: our migration would land in someone else's
    database.
    """
    if not is_duckdb_file(path):
        raise StoreError(
            f"{path} is not a DuckDB database (it is corrupt, empty or another kind of file); "
            "the file was left untouched. Move it aside or choose another path."
        )


def _open_error(path: Path, exc: duckdb.Error | OSError) -> StoreError:
    message = str(exc)
    if "Could not set lock" in message or "Conflicting lock" in message:
        return StoreLockedError(
            f"{path} is held by another process (a writer, or a reader such as the DuckDB CLI or "
            f"Grafana); rows wait in the spool until it is released. DuckDB said: {message}"
        )
    if isinstance(exc, OSError):
        return StoreError(f"{path} could not be created or opened: {message}")
    hint = ""
    if "not a valid DuckDB database" in message:
        hint = " It is corrupt or another kind of file: move it aside or choose another path."
    return StoreError(
        f"{path} could not be opened as a DuckDB database; the file was left untouched.{hint} "
        f"DuckDB said: {message}"
    )


def _create_views(connection: duckdb.DuckDBPyConnection) -> None:
    """The analytics views beside the table, so SQL users and Grafana find the same figures
    the Python API gives. Imported here: the analytics package itself reads through this one.

    A failure (a full disk at the views' commit) is the store's: rows wait in the spool."""
    from enrichment_logs.analytics.connection import AnalyticsError
    from enrichment_logs.analytics.views import create_views

    try:
        create_views(connection)
    except AnalyticsError as exc:
        raise StoreError(str(exc)) from exc


def _migrate(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply every schema file not yet recorded, each in its own transaction."""
    tables = {
        row[0] for row in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    if TABLE in tables and VERSION_TABLE not in tables:
        raise StoreError(
            f"{path} has an {TABLE} table that enrichment-logs did not create; the file was "
            "left untouched. Choose another path."
        )
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    applied = {
        row[0] for row in connection.execute(f"SELECT version FROM {VERSION_TABLE}").fetchall()
    }
    for version, name, sql in schema_migrations():
        if version in applied:
            continue
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute(sql)
            connection.execute(
                f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (?, ?)", [version, name]
            )
            connection.execute("COMMIT")
        except duckdb.Error as exc:
            _rollback(connection)
            raise StoreError(f"could not apply schema migration {name} to {path}: {exc}") from exc


def define_table(connection: duckdb.DuckDBPyConnection) -> None:
    """The empty table as the schema files define it, in a connection of the caller's (the typed
    table a segment is tried against before it is set aside)."""
    _migrate(connection, Path(":memory:"))


def _rollback(connection: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # the failed statement may have ended it already
        connection.execute("ROLLBACK")


def schema_migrations() -> list[tuple[int, str, str]]:
    """The packaged `schema/NNN_*.sql` files as (version, file name, SQL), in version order."""
    schema = resources.files("enrichment_logs.export").joinpath("schema")
    found = []
    for entry in schema.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _column_types(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        [TABLE],
    ).fetchall()
    return {str(name): str(data_type) for name, data_type in rows}


def _ingest_statement(connection: duckdb.DuckDBPyConnection) -> str:
    """The INSERT for one segment."""
    return f"INSERT OR IGNORE INTO {TABLE} BY NAME SELECT * FROM {segment_source(connection)}"


def segment_source(connection: duckdb.DuckDBPyConnection) -> str:
    """`read_json(?, ...)` of segments (parameters: their paths and the longest line allowed),
    typed from the table itself.

    JSON columns are read as text and cast on insert, where DuckDB validates them: a segment
    holds JSON documents as strings, which `read_json` would otherwise store as JSON strings.
    """
    types = {
        name: "VARCHAR" if data_type == "JSON" else data_type
        for name, data_type in _column_types(connection).items()
    }
    columns = ", ".join(f"{_sql_string(name)}: {_sql_string(kind)}" for name, kind in types.items())
    return (
        f"read_json(?, format = 'newline_delimited', columns = {{{columns}}}, "
        "maximum_object_size = ?)"
    )


def ingest_failure(
    exc: duckdb.Error, segments: Sequence[Path], parameters: Sequence[object], store: object
) -> StoreError | None:
    """What a failed insert of `segments` into `store` means, the same for every store: their
    data cannot go into the table (`SegmentRejectedError`, never retried), the store failed
    (`StoreError`, retried later), or None when the segments are gone (another process wrote and
    removed them)."""
    names = segment_names(segments)
    if isinstance(exc, DATA_ERRORS):
        if not segment_fits(parameters):
            return SegmentRejectedError(f"rows of {names} do not fit {TABLE}: {exc}")
    elif segment_parameters(segments) is None:
        return None
    return StoreError(f"could not write {names} to {store}: {exc}")


def segment_fits(parameters: Sequence[object]) -> bool:
    """Whether a segment's rows go into the table as the schema files define it, tried in an
    in-memory database (`parameters` as `segment_parameters` gives them).

    A store's own failure can look like bad data: an error met while the result is fetched (a
    full disk, a transaction a DuckLake conflict aborted) comes back as "invalid input". Only a
    segment that fails here too is set aside; one the store failed to take stays in the spool.
    """
    with duckdb.connect() as probe:
        define_table(probe)
        try:
            probe.execute(
                f"INSERT OR IGNORE INTO {TABLE} BY NAME SELECT * FROM {segment_source(probe)}",
                parameters,
            )
        except DATA_ERRORS:
            return False
    return True


def segment_parameters(segments: Sequence[Path]) -> list[object] | None:
    """The parameters of `segment_source` for those of `segments` still on disk (None: none is).

    One statement reads them all: an INSERT costs milliseconds whatever its size, so a drain
    of many small segments pays it once.
    """
    paths: list[str] = []
    largest = 0
    for segment in segments:
        try:
            largest = max(largest, segment.stat().st_size)
        except FileNotFoundError:
            continue
        paths.append(str(segment))
    return [paths, max(_DEFAULT_MAX_OBJECT_BYTES, largest + 1)] if paths else None


def segment_names(segments: Sequence[Path]) -> str:
    """Segment names for a message: a few, then how many more."""
    shown = ", ".join(segment.name for segment in segments[:3])
    return shown if len(segments) <= 3 else f"{shown} and {len(segments) - 3} more"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
