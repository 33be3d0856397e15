"""The store a URL names, opened for writing: what the exporter writes segments through.

`DuckDBStore` (one file, one writing process) and `DuckLakeStore` (many writing processes) have
one interface, `Store`; nothing above this module needs to know which one it holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import duckdb

from enrichment_logs.export.duckdb_store import DuckDBStore
from enrichment_logs.export.ducklake_store import DuckLakeStore
from enrichment_logs.export.store_url import DuckDBUrl, StoreUrl


class Store(Protocol):
    """An open, migrated `enrichment_logs` table that spool segments are written to."""

    def ingest(self, *segments: Path) -> int:
        """Insert the segments' rows not yet stored, in one transaction; returns rows inserted.
        Raises `SegmentRejectedError` (never retry) or `StoreError` (retry later)."""
        ...

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The writer's connection, `enrichment_logs` resolving by name."""
        ...

    def close(self) -> None: ...


def open_store(url: StoreUrl) -> Store:
    """Open (creating and migrating if needed) the store `url` names; raises `StoreError`."""
    if isinstance(url, DuckDBUrl):
        return DuckDBStore(url.path)
    return DuckLakeStore(url)
