"""`DuckLakeStore`: the `enrichment_logs` table in a DuckLake that many processes write at once.

The same interface as `DuckDBStore` (ingest spool segments, `connection`, `close`), so the
exporter, the ingest service and the budgets work unchanged on either.

The table comes from the same `schema/NNN_*.sql` files, adapted mechanically (`lake_ddl`):
DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints and no indexes, so those clauses are
dropped; every column, type, NOT NULL and default stays. The analytics views are created in the
lake too (and recreated only when their SQL changed, recognised by a comment on each view).

Row identity, without a unique constraint:

1. A segment is inserted with an anti-join on `id` in one transaction, so replaying a segment
   (after a crash between commit and removal, or a catalog outage that hid whether the commit
   landed) adds nothing: the earlier commit is visible to the later transaction.
2. Processes that share a spool claim a segment before writing it (`Spool.claim`), so no two
   writers ever insert the same segment at the same time.
3. Two different segments holding the same span, written at the same moment by two processes
   (one OTLP batch retried to two ingest services), would both pass their anti-join: DuckLake
   commits concurrent inserts side by side. So after each commit the writer looks at the
   snapshots committed while its transaction ran; if they inserted any of its ids, it deletes the
   later copies (the lowest `rowid` of an id stays). `store compact` does the same over the whole
   table, for a writer that died between its commit and that check.

An internal DuckDB error (a DuckLake bug) invalidates the writer's whole database: the segment
stays in the spool, the exporter opens a new store, and the invalidated connection is set aside
unclosed, because closing it would abort the process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.export.duckdb_store import (
    TABLE,
    VERSION_TABLE,
    StoreError,
    ingest_failure,
    schema_migrations,
    segment_names,
    segment_parameters,
    segment_source,
)
from enrichment_logs.export.lake import LAKE, connect_lake, retrying_conflicts
from enrichment_logs.export.store_url import DuckLakeUrl

_logger = logging.getLogger(__name__)

_BROKEN: Final = (duckdb.InternalException, duckdb.FatalException)
"""Errors after which DuckDB has invalidated the whole database (a DuckLake bug, not our data)."""
_abandoned: list[duckdb.DuckDBPyConnection] = []
"""Connections whose database an internal error invalidated: never closed (see `close`)."""

_VIEWS_MARKER: Final = "enrichment-logs views "
_LINE_COMMENT: Final = re.compile(r"--[^\n]*")
_KEY_CONSTRAINT: Final = re.compile(r"\s+(PRIMARY\s+KEY|UNIQUE)\b", re.IGNORECASE)
_CHECK: Final = re.compile(r"\s+CHECK\s*\(", re.IGNORECASE)
_INDEX: Final = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)


class DuckLakeStore:
    """One writer's connection to a migrated lake; not thread-safe (the exporter serialises)."""

    def __init__(self, url: DuckLakeUrl) -> None:
        self.url = url
        self._connection = connect_lake(url, read_only=False, create=True)
        try:
            migrate_lake(self._connection, str(url))
            ensure_views(self._connection)
            source = segment_source(self._connection)
        except (duckdb.Error, ValueError) as exc:  # ValueError: the views' AnalyticsError
            self._connection.close()
            raise StoreError(f"could not prepare the lake {url} for writing: {exc}") from exc
        except BaseException:
            self._connection.close()
            raise
        self._broken = False
        self._insert = (
            f"INSERT INTO {TABLE} BY NAME SELECT * FROM {source} AS segment "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} AS stored WHERE stored.id = segment.id) "
            "QUALIFY row_number() OVER (PARTITION BY segment.id) = 1"
        )

    def ingest(self, *segments: Path) -> int:
        """Insert the segments' rows whose ids the lake does not hold; returns rows inserted.

        Raises `SegmentRejectedError` when the data cannot fit the table and `StoreError` when
        the lake could not be written (catalog down, conflicts that would not settle); either
        way nothing of the segments was committed, or all of it was and a replay adds nothing.
        """
        parameters = segment_parameters(segments)
        if parameters is None:
            return 0  # another process ingested and removed them
        names = segment_names(segments)
        try:
            inserted, started, committed = retrying_conflicts(
                self._connection,
                lambda: self._insert_new(parameters),
                what=f"write {names} to {self.url}",
            )
        except _BROKEN as exc:
            self._broken = True
            raise StoreError(f"DuckLake failed on {names} ({self.url}): {exc}") from exc
        except duckdb.Error as exc:
            error = ingest_failure(exc, segments, parameters, self.url)
            if error is None:
                return 0
            raise error from exc
        if inserted and committed is not None and committed > started + 1:
            self._remove_concurrent_copies(started, committed)
        return inserted

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The writer's connection, with the lake as its default database."""
        return self._connection

    def close(self) -> None:
        """Close the connection, unless an internal error invalidated its database: closing
        one of those aborts the whole process (the DuckDB destructor throws), so it is set
        aside unclosed and the exporter opens a new store."""
        if self._broken:
            _abandoned.append(self._connection)
        else:
            self._connection.close()

    def _insert_new(self, parameters: Sequence[object]) -> tuple[int, int, int | None]:
        """One transaction: (rows inserted, snapshot it started from, snapshot it committed)."""
        connection = self._connection
        connection.execute("BEGIN TRANSACTION")
        started = _one(connection, f"SELECT id FROM ducklake_current_snapshot('{LAKE}')")
        inserted = _one(connection, self._insert, parameters)
        connection.execute("COMMIT")
        if not inserted:
            return 0, started, None
        committed = _one(connection, f"SELECT id FROM ducklake_last_committed_snapshot('{LAKE}')")
        return inserted, started, committed

    def _remove_concurrent_copies(self, started: int, committed: int) -> None:
        """Delete later copies of the ids just committed that snapshots committed meanwhile
        also inserted. The rows are committed: a failure here is logged, not raised (the
        segment must not be replayed for it), and `store compact` removes what is left."""
        insertions = f"ducklake_table_insertions('{LAKE}', 'main', '{TABLE}', ?, ?)"
        try:
            shared = self._connection.execute(
                f"SELECT DISTINCT id FROM {insertions} WHERE id IN (SELECT id FROM {insertions})",
                [committed, committed, started + 1, committed - 1],
            ).fetchall()
            if shared:
                removed = remove_duplicates(self._connection, [row[0] for row in shared])
                _logger.info("removed %d rows another writer committed at the same time", removed)
        except (duckdb.Error, StoreError) as exc:
            self._broken |= isinstance(exc, _BROKEN)
            _logger.warning(
                "could not check %s for rows written twice at the same moment (enrichment-logs "
                "store compact removes them): %s",
                self.url,
                exc,
            )


def remove_duplicates(
    connection: duckdb.DuckDBPyConnection, ids: Sequence[object] | None = None
) -> int:
    """Delete every copy of a row but the one with the lowest `rowid` (for `ids`, or all rows);
    returns rows deleted. Retried while concurrent inserts conflict with the delete."""
    scope = "" if ids is None else "WHERE id IN (SELECT unnest($ids))"
    statement = (
        f"DELETE FROM {TABLE} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() "
        f"OVER (PARTITION BY id ORDER BY rowid) AS copy FROM {TABLE} {scope}) WHERE copy > 1)"
    )
    parameters = {} if ids is None else {"ids": list(ids)}

    def delete() -> int:
        connection.execute("BEGIN TRANSACTION")
        deleted = _one(connection, statement, parameters)
        connection.execute("COMMIT")
        return deleted

    return retrying_conflicts(connection, delete, what="remove duplicate rows")


def migrate_lake(connection: duckdb.DuckDBPyConnection, where: str) -> None:
    """Apply every schema file the lake has not recorded, each in its own transaction; several
    writers starting at once settle it between them (a conflicting one redoes its check)."""
    retrying_conflicts(
        connection, lambda: _create_version_table(connection, where), what=f"migrate {where}"
    )
    for version, name, sql in schema_migrations():
        retrying_conflicts(
            connection,
            functools.partial(_apply, connection, version, name, sql),
            what=f"apply schema migration {name} to {where}",
        )


def lake_ddl(sql: str) -> str:
    """A schema file's SQL as DuckLake takes it: comments, key and CHECK constraints and index
    statements removed; everything else as written."""
    statements = []
    for statement in _LINE_COMMENT.sub("", sql).split(";"):
        if not statement.strip() or _INDEX.match(statement):
            continue
        statements.append(_without_checks(_KEY_CONSTRAINT.sub("", statement)).strip())
    return ";\n".join(statements) + ";" if statements else ""


def ensure_views(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the analytics views in the lake unless each is there with the current SQL."""
    from enrichment_logs.analytics.connection import AnalyticsError
    from enrichment_logs.analytics.views import VIEW_NAMES, create_views, view_sql

    marker = (
        _VIEWS_MARKER
        + hashlib.sha256("\n".join(view_sql(name) for name in VIEW_NAMES).encode()).hexdigest()[:16]
    )

    def current() -> bool:
        comments = dict(
            connection.execute(
                "SELECT view_name, comment FROM duckdb_views() "
                "WHERE database_name = current_database()"
            ).fetchall()
        )
        return all(comments.get(name) == marker for name in VIEW_NAMES)

    def create() -> None:
        if current():
            return
        try:
            create_views(connection)
        except AnalyticsError as exc:  # a conflict with a writer creating them too: retried
            if isinstance(exc.__cause__, duckdb.Error):
                raise exc.__cause__ from exc
            raise
        connection.execute("BEGIN TRANSACTION")
        for name in VIEW_NAMES:
            connection.execute(f"COMMENT ON VIEW {name} IS '{marker}'")
        connection.execute("COMMIT")

    retrying_conflicts(connection, create, what="create the analytics views")


def _create_version_table(connection: duckdb.DuckDBPyConnection, where: str) -> None:
    tables = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if TABLE in tables and VERSION_TABLE not in tables:
        raise StoreError(
            f"{where} has an {TABLE} table that enrichment-logs did not create; it was left "
            "untouched. Choose another lake."
        )
    if VERSION_TABLE not in tables:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL, "
            "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )


def _apply(connection: duckdb.DuckDBPyConnection, version: int, name: str, sql: str) -> None:
    connection.execute("BEGIN TRANSACTION")
    applied = _one(connection, f"SELECT count(*) FROM {VERSION_TABLE} WHERE version = ?", [version])
    if not applied:
        connection.execute(lake_ddl(sql))
        connection.execute(
            f"INSERT INTO {VERSION_TABLE} VALUES (?, ?, current_timestamp)", [version, name]
        )
    connection.execute("COMMIT")


def _without_checks(statement: str) -> str:
    """`statement` without its `CHECK (...)` clauses (parentheses balanced, quotes respected)."""
    while match := _CHECK.search(statement):
        depth, position, quoted = 1, match.end(), False
        while depth and position < len(statement):
            character = statement[position]
            if character == "'":
                quoted = not quoted
            elif not quoted:
                depth += {"(": 1, ")": -1}.get(character, 0)
            position += 1
        statement = statement[: match.start()] + statement[position:]
    return statement


def _one(
    connection: duckdb.DuckDBPyConnection,
    sql: str,
    parameters: Sequence[object] | Mapping[str, object] | None = None,
) -> int:
    row = connection.execute(sql, parameters).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
