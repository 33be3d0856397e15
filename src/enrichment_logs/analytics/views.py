"""The analytics views: one SQL file per view in `views/`, the single definition of each figure.

Each file is a plain SELECT that reads `enrichment_logs` or other views by name. In a database,
`create_views` makes them real views, for the DuckDB CLI and Grafana. The Python API runs the
same files with its inputs bound as common table expressions of the same names (a CTE shadows a
view), so a filtered figure is computed by exactly the SQL an unfiltered view uses, and works on a
read-only file that has no views yet.

A file may also take a value from a one-row view as a named parameter (`$name`, see
`View.parameters`): the database view reads it from that view with a subquery, the Python API
reads the same one-row view first and binds the value. DuckDB filters a table scan by a bound
value as it reads it (a 1-in-16 sample of 10 million calls: 0.1 s of CPU), by a subquery only
after reading every row (0.25 s).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import duckdb

from enrichment_logs.analytics.connection import TABLE, AnalyticsError, require_table


@dataclass(frozen=True, slots=True)
class View:
    """A view, the other views it reads (besides the `enrichment_logs` table), and its
    parameters: each `$name` in its SQL, with the one-row view (among `reads`) whose column of
    that name the database view reads."""

    name: str
    reads: tuple[str, ...] = ("enrichment_calls",)
    parameters: tuple[tuple[str, str], ...] = ()


VIEWS: tuple[View, ...] = (
    View("enrichment_calls", reads=()),
    View("cost_by_provider_daily"),
    View("lead_costs"),
    View("company_costs"),
    View("session_costs"),
    View("lead_calls"),
    View("latency_sample"),
    View(
        "provider_performance",
        reads=("enrichment_calls", "latency_sample"),
        parameters=(("max_sample_key", "latency_sample"),),
    ),
    View("provider_errors"),
    View("usage_window"),
    View("usage_daily", reads=("enrichment_calls", "usage_window")),
    View("caching_opportunities"),
    View("cost_per_enrichment", reads=("session_costs", "lead_costs")),
)
"""Every view, each after the views it reads."""

VIEW_NAMES: tuple[str, ...] = tuple(view.name for view in VIEWS)
_BY_NAME: Mapping[str, View] = {view.name: view for view in VIEWS}


@functools.cache
def view_sql(name: str) -> str:
    """The SELECT of view `name`, as packaged in `views/<name>.sql`."""
    if name not in _BY_NAME:
        raise KeyError(f"no analytics view named {name!r}")
    package = resources.files("enrichment_logs.analytics").joinpath("views")
    return package.joinpath(f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")


def create_views(connection: duckdb.DuckDBPyConnection) -> None:
    """Create or refresh every analytics view next to the `enrichment_logs` table.

    Idempotent (CREATE OR REPLACE), and all or nothing: one transaction. Needs a writable
    connection; the Python API itself does not need the views to exist.
    """
    require_table(connection)
    connection.execute("BEGIN TRANSACTION")
    try:
        for view in VIEWS:
            connection.execute(f"CREATE OR REPLACE VIEW {view.name} AS\n{_database_sql(view)}\n")
        connection.execute("COMMIT")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
            connection.execute("ROLLBACK")
        raise AnalyticsError(f"could not create the analytics views: {exc}") from exc


def _database_sql(view: View) -> str:
    """The view's SQL with each parameter read from its one-row view."""
    sql = view_sql(view.name)
    for parameter, source in view.parameters:
        sql = re.sub(rf"\${parameter}\b", f"(SELECT {parameter} FROM {source})", sql)
    return sql


def with_inputs(body: str, reads: tuple[str, ...], replaced: Mapping[str, str]) -> str:
    """`body` preceded by CTEs for every view it reads, directly or not, in dependency order.

    A view named in `replaced` is defined by the given SQL instead of its file (the caller's
    time window); the others by their own files. `replaced` may also narrow the table itself
    (`enrichment_logs`, such as `SELECT * FROM enrichment_logs WHERE ...`): a CTE is not in
    scope in its own definition, so the table it shadows is the one it reads. The result ends
    with `AS result`, so a caller may append WHERE, ORDER BY and LIMIT.

    The CTEs are NOT MATERIALIZED, like the views they stand for: DuckDB would otherwise
    materialize a CTE read twice (every column of every call, for `usage_daily` or
    `cost_per_enrichment`), four times slower than reading the table twice.
    """
    needed = _closure(reads)
    names = [TABLE] if TABLE in replaced else []
    names += [name for name in VIEW_NAMES if name in needed]
    definitions = [
        f"{name} AS NOT MATERIALIZED (\n{replaced.get(name) or view_sql(name)}\n)" for name in names
    ]
    prefix = "WITH " + ",\n".join(definitions) + "\n" if definitions else ""
    return f"{prefix}SELECT * FROM (\n{body}\n) AS result"


def view_query(name: str, replaced: Mapping[str, str]) -> str:
    """The query of view `name` over the replaced inputs (see `with_inputs`); the caller binds
    the view's parameters."""
    return with_inputs(view_sql(name), _BY_NAME[name].reads, replaced)


def _closure(reads: tuple[str, ...]) -> set[str]:
    needed: set[str] = set()
    pending = list(reads)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(_BY_NAME[name].reads)
    return needed
