"""Opening the database for reading: a path (read-only) or a connection the caller owns.

A missing file, a file that is not a DuckDB database, a database without the `enrichment_logs`
table and a file locked by a writing process all raise `AnalyticsError` with a sentence a user
can act on. The header is checked before DuckDB opens the file: given, say, a SQLite file,
DuckDB would try to download its SQLite extension first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, TypeAlias

import duckdb

from enrichment_logs.export.duckdb_store import is_duckdb_file

Database: TypeAlias = str | Path | duckdb.DuckDBPyConnection
"""Where the logs are: a DuckDB file's path, or an open connection to it."""

TABLE: Final = "enrichment_logs"


class AnalyticsError(ValueError):
    """The database cannot be read as enrichment logs, or an argument is not valid."""


@contextmanager
def reading(db: Database) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose session time zone is UTC, closed afterwards.

    For a caller's connection this is a cursor of it: same database and transaction visibility,
    but the caller's own session settings stay untouched.
    """
    if isinstance(db, duckdb.DuckDBPyConnection):
        connection = db.cursor()
    elif isinstance(db, str | Path):
        connection = _open_read_only(Path(db))
    else:
        raise AnalyticsError(f"db must be a path or a duckdb connection, not {type(db).__name__}")
    try:
        # TIMESTAMPTZ values come back as datetimes in the session zone: make that UTC.
        connection.execute("SET TimeZone = 'UTC'")
        require_table(connection)
        yield connection
    finally:
        connection.close()


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


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "does not exist"
        raise AnalyticsError(f"{path} {reason}: give the path of an enrichment-logs DuckDB file")
    if not is_duckdb_file(path):
        raise AnalyticsError(
            f"{path} is not a DuckDB database (it is empty, corrupt or another kind of file)"
        )
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise AnalyticsError(
                f"{path} is held by a process writing to it; read it from that process by "
                f"passing its connection, or once the writer has closed it. DuckDB said: {message}"
            ) from exc
        if "different configuration" in message:
            raise AnalyticsError(
                f"{path} is open for writing in this process; pass that connection instead "
                f"of the path. DuckDB said: {message}"
            ) from exc
        raise AnalyticsError(f"{path} could not be opened: {message}") from exc
