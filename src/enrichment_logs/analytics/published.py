"""Reading the Parquet files the writer publishes (`export.publish`) as if they were the database.

An in-memory DuckDB connection gets an `enrichment_logs` view over the day files and the analytics
views on top of it, so every analytics function, the CLI and ad-hoc SQL work unchanged, with no
lock on the live file. Under the files lies the empty table as the schema files define it: every
column exists with its table type even before anything is published, and in files published
before a migration added a column.

The writer replaces a day's file while readers read. DuckDB opens a file more than once per
query (its metadata, then its data), and a replacement in between fails the query ("Invalid
data"; measured: ~2 % of queries while a file is replaced every few milliseconds). So the
connection reads the files through descriptors opened when it was made (`/dev/fd/N`): every
query of the connection sees the same complete files, however often the writer replaces them.
The newest `PINNED_DAYS` day files are pinned this way (they are the ones the writer rewrites);
older days are read by name.

The files are as fresh as the writer's last publish: `publish_interval_seconds` (5 s by default),
longer while publishing a large day would take more than its share of the writer's time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.analytics.connection import AnalyticsError
from enrichment_logs.analytics.views import create_views
from enrichment_logs.export.duckdb_store import StoreError, define_table
from enrichment_logs.export.publish import READ_GLOB

PINNED_DAYS: Final = 64
"""Day files read through a descriptor held for the connection's life (newest first)."""
_DEFINITION: Final = "enrichment_logs_definition"
"""The schema of the in-memory database that holds the empty, typed table."""


@contextmanager
def reading_published(directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection over the day files in `directory`, closed afterwards (an empty
    directory reads as a log without calls); `AnalyticsError` for a directory of anything else."""
    files = sorted(directory.glob(READ_GLOB), reverse=True)  # newest day first
    if not files and any(directory.iterdir()):
        raise AnalyticsError(
            f"{directory} is a directory without published enrichment logs "
            "(enrichment_logs-YYYY-MM-DD.parquet files): give a DuckDB file or the directory "
            "its writer publishes to"
        )
    with ExitStack() as held:
        sources = [
            _pinned(path, held) if index < PINNED_DAYS else str(path)
            for index, path in enumerate(files)
        ]
        connection = duckdb.connect()
        held.callback(connection.close)  # before the descriptors: DuckDB may still read them
        try:
            _define_log(connection, sources)
        except (duckdb.Error, StoreError, AnalyticsError) as exc:
            raise AnalyticsError(f"could not read the Parquet files in {directory}: {exc}") from exc
        yield connection


def _pinned(path: Path, held: ExitStack) -> str:
    """A name for this very file, valid until `held` closes, whatever is renamed over `path`."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise AnalyticsError(f"could not open {path}: {exc}") from exc
    held.callback(os.close, descriptor)
    return f"/dev/fd/{descriptor}"


def _define_log(connection: duckdb.DuckDBPyConnection, sources: list[str]) -> None:
    connection.execute(f"CREATE SCHEMA {_DEFINITION}")
    connection.execute(f"USE memory.{_DEFINITION}")
    define_table(connection)
    connection.execute("USE memory.main")
    log = f"SELECT * FROM {_DEFINITION}.enrichment_logs"
    if sources:
        # Written into the view, not bound: a view outlives the statement, and the callers'
        # cursors do not share session variables.
        files = ", ".join("'" + source.replace("'", "''") + "'" for source in sources)
        log += f" UNION ALL BY NAME SELECT * FROM read_parquet([{files}], union_by_name = true)"
    connection.execute(f"CREATE VIEW enrichment_logs AS {log}")
    create_views(connection)
