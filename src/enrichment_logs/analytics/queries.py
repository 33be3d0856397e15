"""Running a composed query with bound parameters and reading its rows back as dicts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb

from enrichment_logs.analytics.connection import AnalyticsError


def fetch(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every row of `sql`, as dicts keyed by column name."""
    try:
        cursor = connection.execute(sql, dict(parameters))
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise AnalyticsError(f"the analytics query failed: {exc}") from exc


@contextlib.contextmanager
def snapshot(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around several queries, so they read the same rows (a writer's commit or
    a lake's new snapshot in between would otherwise make them disagree). Read-only: it ends in
    a rollback. `connection` is a cursor of `reading`, never the caller's own connection."""
    try:
        connection.execute("BEGIN TRANSACTION")
    except duckdb.Error as exc:
        raise AnalyticsError(f"could not start reading: {exc}") from exc
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # a failed query may have ended it already
            connection.execute("ROLLBACK")
