"""What calls cost: totals and breakdowns (`get_enrichment_costs`), and what one enrichment
costs (`get_cost_per_enrichment`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import duckdb

from enrichment_logs.analytics.connection import AnalyticsError, Database, reading
from enrichment_logs.analytics.filters import CallFilter, DateRange
from enrichment_logs.analytics.queries import fetch
from enrichment_logs.analytics.results import (
    CostDistribution,
    CostFigures,
    CostGroup,
    CostPerEnrichment,
    CostReport,
    Table,
    columns_of,
)
from enrichment_logs.analytics.views import view_query, with_inputs

GROUP_BY_COLUMNS: Final = (
    "provider",
    "operation",
    "model",
    "lead_id",
    "company_id",
    "status",
    "day",
)
"""The columns a cost breakdown may group by (`day` is the UTC day a call started)."""

# The same figures as cost_by_provider_daily.sql, for any grouping of the same calls.
_COST_FIGURES: Final = (
    "count(*) AS calls, count(cost) AS priced_calls, "
    "count(*) - count(cost) AS unknown_cost_calls, coalesce(sum(cost), 0) AS known_cost"
)


def get_enrichment_costs(
    db: Database,
    *,
    lead_id: str | None = None,
    company_id: str | None = None,
    date_range: DateRange | None = None,
    provider: str | None = None,
    group_by: Sequence[str] = ("provider", "operation"),
) -> CostReport:
    """Total cost of the matching calls and its breakdown by `group_by`, most expensive first.

    Calls with an unknown cost are counted in `unknown_cost_calls` and left out of `known_cost`.
    `group_by` takes columns of `GROUP_BY_COLUMNS`; an empty sequence gives totals only.
    """
    keys = _checked_group_by(group_by)
    calls = CallFilter(date_range, provider, lead_id, company_id)
    with reading(db) as connection:
        return cost_report(connection, calls, keys)


def cost_report(
    connection: duckdb.DuckDBPyConnection, calls: CallFilter, keys: tuple[str, ...]
) -> CostReport:
    """The report on an open connection (the lead details reuse it).

    The totals and the groups are the grouping sets of one query (all the calls, and each
    group): one pass over the calls, and one look-up of a lead's calls instead of two.
    """
    columns = ", ".join(keys)
    grouping = f"SELECT {columns}, {_COST_FIGURES}, grouping({columns}) <> 0 AS is_total"
    body = (
        f"{grouping} FROM enrichment_calls GROUP BY GROUPING SETS ((), ({columns}))"
        if keys
        else f"SELECT {_COST_FIGURES}, TRUE AS is_total FROM enrichment_calls"
    )
    sql = with_inputs(body, ("enrichment_calls",), calls.inputs())
    order = "".join(f", {key} NULLS LAST" for key in keys)
    total, *rows = fetch(
        connection,
        f"{sql} ORDER BY is_total DESC, known_cost DESC, calls DESC{order}",
        calls.parameters,
    )
    figures = columns_of(CostFigures)
    groups = tuple(_group(row, keys) for row in rows)
    breakdown = Table(groups, (*keys, *figures))
    return CostReport(keys, CostFigures(**{name: total[name] for name in figures}), breakdown)


def get_cost_per_enrichment(
    db: Database, *, date_range: DateRange | None = None
) -> CostPerEnrichment:
    """Mean, median and 95th percentile cost per session and per enriched lead.

    Counts the calls within `date_range` only. A lead is enriched when none of its calls failed
    or was refused; sessions and leads with an unknown-cost call are counted apart, not averaged.
    """
    calls = CallFilter(date_range)
    with reading(db) as connection:
        sql = view_query("cost_per_enrichment", calls.inputs())
        rows = {
            row["unit"]: CostDistribution(**row) for row in fetch(connection, sql, calls.parameters)
        }
    return CostPerEnrichment(per_session=rows["session"], per_enriched_lead=rows["enriched_lead"])


def _checked_group_by(group_by: Sequence[str]) -> tuple[str, ...]:
    """Only allow-listed names ever reach the SQL text."""
    if isinstance(group_by, str) or not isinstance(group_by, Sequence):
        raise AnalyticsError(
            f"group_by must be a sequence of column names, such as ('provider',), not {group_by!r}"
        )
    keys = tuple(group_by)
    unknown = [key for key in keys if key not in GROUP_BY_COLUMNS]
    if unknown:
        raise AnalyticsError(
            f"cannot group by {unknown!r}; choose from {', '.join(GROUP_BY_COLUMNS)}"
        )
    if len(set(keys)) != len(keys):
        raise AnalyticsError(f"group_by names a column twice: {keys!r}")
    return keys


def _group(row: dict[str, Any], keys: tuple[str, ...]) -> CostGroup:
    key = {name: row.pop(name) for name in keys}
    del row["is_total"]
    return CostGroup(key=key, **row)
