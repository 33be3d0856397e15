"""Cost per lead and company: one lead's details, and the most expensive leads and companies."""

from __future__ import annotations

from typing import Any

import duckdb

from enrichment_logs.analytics.connection import AnalyticsError, Database, reading
from enrichment_logs.analytics.costs import cost_report
from enrichment_logs.analytics.filters import CallFilter, DateRange
from enrichment_logs.analytics.queries import fetch, snapshot
from enrichment_logs.analytics.results import (
    CompanyCost,
    LeadCall,
    LeadCost,
    LeadCostDetails,
    TopSpenders,
    table,
)
from enrichment_logs.analytics.views import view_query


def get_lead_cost_details(db: Database, lead_id: str) -> LeadCostDetails:
    """One lead's cost: totals, by provider and operation, and every call in time order.

    A lead with no calls gives zero totals and empty tables, not an error.
    """
    if not isinstance(lead_id, str):
        raise AnalyticsError(f"lead_id must be a string, not {type(lead_id).__name__}")
    calls = CallFilter(lead_id=lead_id)
    with reading(db) as connection, snapshot(connection):
        report = cost_report(connection, calls, ("provider", "operation"))
        sql = view_query("lead_calls", calls.inputs())
        listed = fetch(connection, sql + " ORDER BY started_at, id", calls.parameters)
    return LeadCostDetails(lead_id, report.totals, report.breakdown, table(LeadCall, listed))


def get_top_leads(db: Database, n: int = 10, *, date_range: DateRange | None = None) -> TopSpenders:
    """The `n` leads and the `n` companies with the highest known cost within `date_range`.

    Calls outside any lead or company are not ranked. Ties go by id, so the order is stable.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise AnalyticsError(f"n must be a whole number of at least 0, not {n!r}")
    calls = CallFilter(date_range)
    with reading(db) as connection, snapshot(connection):
        leads = _most_expensive(connection, "lead_costs", "lead_id", calls, n)
        companies = _most_expensive(connection, "company_costs", "company_id", calls, n)
    return TopSpenders(table(LeadCost, leads), table(CompanyCost, companies))


def _most_expensive(
    connection: duckdb.DuckDBPyConnection, view: str, key: str, calls: CallFilter, n: int
) -> list[dict[str, Any]]:
    """The `n` rows of `view` (keyed by `key`) with the highest known cost, in order.

    In two steps: the ranking asks the view for `known_cost` alone (DuckDB then drops the view's
    other aggregates, such as the distinct sessions), and the whole view is computed for the
    winners' calls only, named by a bound list. The scan then filters on the list itself and
    skips the row groups whose zone maps exclude every winner; a join with the ranking, or the
    same list with a `{key} IS NOT NULL` beside it, made DuckDB read every column of most calls
    instead. Same rows as ranking the whole view, several times faster on 10 million calls
    (benchmarks/analytics_scale.py).
    """
    order = f" ORDER BY known_cost DESC, {key}"
    ranking = view_query(view, calls.inputs())
    ranked = f"SELECT {key} FROM ({ranking} WHERE {key} IS NOT NULL{order} LIMIT $n)"
    winners = [row[key] for row in fetch(connection, ranked, {**calls.parameters, "n": n})]
    if not winners:
        return []
    return fetch(
        connection,
        view_query(view, calls.inputs(f"{key} = ANY($winners)")) + order,
        {**calls.parameters, "winners": winners},
    )
