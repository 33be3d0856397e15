"""Running a composed query with bound parameters and reading its rows back as dicts."""

from __future__ import annotations

from collections.abc import Mapping
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
