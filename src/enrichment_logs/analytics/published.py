"""Reading the DuckLake the writer of a DuckDB file publishes (`export.publish`) as the database.

The writer publishes its table and the analytics views into a DuckLake with a SQLite catalog in
its publish directory. A reader attaches that lake read-only, as it attaches any lake store, so
every analytics function, the CLI and ad-hoc SQL work unchanged, with no lock on the live file
and nothing the writer waits for (the catalog is in WAL mode). Each query reads one committed
snapshot: however often the writer publishes, a reader sees each row once and never a
half-published day, and a file an older snapshot needs outlives any query still reading it
(`export.publish.FILE_GRACE`).

The lake is as fresh as the writer's last publish: `publish_interval_seconds` (5 s by default),
longer while publishing would take more than its share of the writer's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from enrichment_logs.analytics.connection import AnalyticsError
from enrichment_logs.export.duckdb_store import StoreError
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.publish import CATALOG_NAME, is_published, published_lake


@contextmanager
def reading_published(directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the lake published in `directory`, closed afterwards; `AnalyticsError`
    for a directory where nothing was published."""
    if not is_published(directory):
        raise AnalyticsError(
            f"{directory} is a directory without published enrichment logs (no {CATALOG_NAME}): "
            "give a DuckDB file, or the directory its writer publishes to once it has published"
        )
    try:
        connection = connect_lake(published_lake(directory), read_only=True)
    except StoreError as exc:
        raise AnalyticsError(f"could not read the logs published in {directory}: {exc}") from exc
    try:
        yield connection
    finally:
        connection.close()
