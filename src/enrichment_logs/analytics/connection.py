"""Opening the database for reading: a path (read-only) or a connection the caller owns.

Readers never wait for, nor block, the pipeline. While a process writes the DuckDB file, no other
process can open it; the writer publishes the table into a DuckLake (`export.publish`), and a
path held by a writer is read from that lake instead, attached read-only (`<db>.lake`, or
`ENRICHMENT_LOGS_PUBLISH_DIR`), as fresh as the writer's last publish. The publish directory
itself may also be given.

A DuckLake (a store URL such as `ducklake:postgres:dbname=lake host=db`, see
`export/store_url.py`) is attached read-only: its readers and writers never wait for each other,
and every reader sees the lake's latest snapshot.

A missing file, a file that is not a DuckDB database, a database without the `enrichment_logs`
table, a file held by a writer that publishes nothing, a malformed store URL and a lake that
cannot be reached all raise `AnalyticsError` with a sentence a user can act on. The header is
checked before DuckDB opens the file: given, say, a SQLite file, DuckDB would try to download its
SQLite extension first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final, TypeAlias

import duckdb

from enrichment_logs.config import ConfigurationError, Settings
from enrichment_logs.export.duckdb_store import StoreError, is_duckdb_file
from enrichment_logs.export.publish import is_published
from enrichment_logs.export.store_url import DuckDBUrl, DuckLakeUrl, StoreUrlError, parse_store_url

Database: TypeAlias = str | Path | DuckDBUrl | DuckLakeUrl | duckdb.DuckDBPyConnection
"""Where the logs are: a DuckDB file's path, the directory its writer publishes to, a store URL
(as text, or parsed), or an open connection."""

TABLE: Final = "enrichment_logs"


class AnalyticsError(ValueError):
    """The database cannot be read as enrichment logs, or an argument is not valid."""


@contextmanager
def reading(db: Database) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose session time zone is UTC, closed afterwards.

    For a caller's connection this is a cursor of it: same database and transaction visibility,
    but the caller's own session settings stay untouched.
    """
    with ExitStack() as resources:
        if isinstance(db, duckdb.DuckDBPyConnection):
            connection = db.cursor()
            resources.callback(connection.close)
            _use_same_database(db, connection)
        elif isinstance(db, str | Path | DuckDBUrl | DuckLakeUrl):
            url = store_of(db)
            if isinstance(url, DuckLakeUrl):
                connection = _connect_lake(url)
                resources.callback(connection.close)
            else:
                connection = resources.enter_context(_opened(url.path))
        else:
            raise AnalyticsError(
                f"db must be a path, a store URL or a duckdb connection, not {type(db).__name__}"
            )
        # TIMESTAMPTZ values come back as datetimes in the session zone: make that UTC.
        connection.execute("SET TimeZone = 'UTC'")
        require_table(connection)
        yield connection


def require_table(connection: duckdb.DuckDBPyConnection) -> None:
    """Refuse a database without the table, before a query fails with a catalog error."""
    found = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema() AND table_catalog = current_database()",
        [TABLE],
    ).fetchone()
    if not found or not found[0]:
        raise AnalyticsError(
            f"the database has no {TABLE} table: it was not written by enrichment-logs"
        )


@contextmanager
def _opened(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The log at `path`: the DuckDB file read-only, or, while a writer holds it, the lake it
    publishes; a directory is read as a publish directory."""
    found = path if path.is_dir() else _connect_file(path)
    if isinstance(found, Path):
        # Imported here: it builds on the views module, which builds on this one.
        from enrichment_logs.analytics.published import reading_published

        with reading_published(found) as connection:
            yield connection
    else:
        with found as connection:
            yield connection


def _connect_file(path: Path) -> duckdb.DuckDBPyConnection | Path:
    """A read-only connection to the file, or the directory to read instead while it is held."""
    if not path.is_file():
        raise AnalyticsError(
            f"{path} does not exist: give the path of an enrichment-logs DuckDB file"
        )
    if not is_duckdb_file(path):
        raise AnalyticsError(
            f"{path} is not a DuckDB database (it is empty, corrupt or another kind of file)"
        )
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        message = str(exc)
        # Held by another process (lock) or opened for writing by this one (configuration).
        if "lock" not in message.lower() and "different configuration" not in message:
            raise AnalyticsError(f"{path} could not be opened: {message}") from exc
        published = publish_dir_of(path)
        if not is_published(published):
            raise AnalyticsError(
                f"{path} is held by a process writing to it, which publishes nothing to "
                f"{published} (publishing is off, or it has not started yet); read it once the "
                f"writer has closed it. DuckDB said: {message}"
            ) from exc
        return published


def _use_same_database(
    caller: duckdb.DuckDBPyConnection, cursor: duckdb.DuckDBPyConnection
) -> None:
    """A cursor starts in the instance's default database: give it the caller's (an attached
    DuckLake is the default only of the connection that ran USE)."""
    found = caller.execute("SELECT current_database(), current_schema()").fetchone()
    if found is not None:
        catalog, schema = (str(name).replace('"', '""') for name in found)
        cursor.execute(f'USE "{catalog}"."{schema}"')


def store_of(db: str | Path | DuckDBUrl | DuckLakeUrl) -> DuckDBUrl | DuckLakeUrl:
    """The store `db` names: a `Path` is a path; text is a store URL or a path."""
    if isinstance(db, DuckDBUrl | DuckLakeUrl):
        return db
    try:
        return parse_store_url(db)
    except StoreUrlError as exc:
        raise AnalyticsError(str(exc)) from exc


def _connect_lake(url: DuckLakeUrl) -> duckdb.DuckDBPyConnection:
    """The lake attached read-only; nothing waits for its writers, nor they for us."""
    from enrichment_logs.export.lake import connect_lake

    try:
        return connect_lake(url, read_only=True)
    except StoreError as exc:
        raise AnalyticsError(str(exc)) from exc


def publish_dir_of(path: Path) -> Path:
    """Where the writer of the DuckDB file at `path` publishes it (`ENRICHMENT_LOGS_PUBLISH_DIR`,
    else `<path>.lake`), as `configure()` would resolve it."""
    try:
        return Settings.load({"db_path": path}).resolved_publish_dir
    except ConfigurationError as exc:
        raise AnalyticsError(str(exc)) from exc
