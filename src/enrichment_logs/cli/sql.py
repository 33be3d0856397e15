"""`enrichment-logs sql "QUERY"`: one read-only query on the log, as a table, JSON or CSV.

The query sees the `enrichment_logs` table and the analytics views, from the file or, while a
pipeline writes it, from the lake the writer publishes. Only queries run: a statement
that would change anything (INSERT, CREATE, COPY, ATTACH, SET, ...) is refused before it runs.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

from enrichment_logs.cli.log_options import add_db_argument, db_of, reads_the_log
from enrichment_logs.cli.output import Section, add_output_arguments, emit

READ_ONLY: Final = ("SELECT", "EXPLAIN")
"""Statement types that only read (DuckDB parses SHOW, DESCRIBE, SUMMARIZE, PRAGMA table_info,
VALUES and FROM-first queries as SELECT)."""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    sql = commands.add_parser(
        "sql",
        help="run one read-only SQL query on the log",
        description="Run one read-only SQL query on the enrichment_logs table and the analytics "
        "views; works while a pipeline writes the database.",
    )
    sql.add_argument(
        "query", help='e.g. "SELECT provider, sum(cost) FROM enrichment_logs GROUP BY 1"'
    )
    add_db_argument(sql)
    add_output_arguments(sql)
    sql.set_defaults(handler=run)


@reads_the_log("sql")
def run(args: argparse.Namespace) -> int:
    import duckdb

    from enrichment_logs.analytics import terminal
    from enrichment_logs.analytics.connection import AnalyticsError, reading

    with reading(db_of(args)) as connection:
        try:
            _check_read_only(connection, args.query)
            cursor = connection.execute(args.query)
            columns = [column[0] for column in cursor.description or ()]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        except duckdb.Error as exc:
            raise AnalyticsError(f"the query failed: {exc}") from exc
    section = Section("result", columns, rows)
    return emit(args, rows, [section], lambda: [terminal.query_result(columns, rows)])


def _check_read_only(connection: Any, query: str) -> None:
    from enrichment_logs.analytics.connection import AnalyticsError

    statements = connection.extract_statements(query)
    if len(statements) != 1:
        raise AnalyticsError(f"give exactly one SQL statement, not {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_ONLY:
        raise AnalyticsError(
            f"refused: {kind} would change something, and sql only reads "
            "(SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"
        )
