"""Cost per lead and company: one lead's details, and the most expensive leads and companies."""

from __future__ import annotations

from enrichment_logs.analytics.connection import AnalyticsError, Database, reading
from enrichment_logs.analytics.costs import cost_report
from enrichment_logs.analytics.filters import CallFilter, DateRange
from enrichment_logs.analytics.queries import fetch
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
    with reading(db) as connection:
        report = cost_report(connection, calls, ("provider", "operation"))
        sql = view_query("lead_calls", {"enrichment_calls": calls.calls_sql()})
        listed = fetch(connection, sql + " ORDER BY started_at, id", calls.parameters)
    return LeadCostDetails(lead_id, report.totals, report.breakdown, table(LeadCall, listed))


def get_top_leads(db: Database, n: int = 10, *, date_range: DateRange | None = None) -> TopSpenders:
    """The `n` leads and the `n` companies with the highest known cost within `date_range`.

    Calls outside any lead or company are not ranked. Ties go by id, so the order is stable.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise AnalyticsError(f"n must be a whole number of at least 0, not {n!r}")
    calls = CallFilter(date_range)
    parameters = {**calls.parameters, "n": n}
    with reading(db) as connection:
        leads = fetch(connection, _most_expensive("lead_costs", "lead_id", calls), parameters)
        companies = fetch(
            connection, _most_expensive("company_costs", "company_id", calls), parameters
        )
    return TopSpenders(table(LeadCost, leads), table(CompanyCost, companies))


def _most_expensive(view: str, key: str, calls: CallFilter) -> str:
    """The `$n` rows of `view` (keyed by `key`) with the highest known cost, in order.

    In two steps: the ranking asks the view for `known_cost` alone (DuckDB then drops the view's
    other aggregates, such as the distinct sessions), and the whole view is computed for the
    winners' calls only. Same rows as ranking the whole view, five times faster on 10 million
    calls (benchmarks/analytics_scale.py).
    """
    ranked = f" WHERE {key} IS NOT NULL ORDER BY known_cost DESC, {key} LIMIT $n"
    ranking = view_query(view, {"enrichment_calls": calls.calls_sql()}) + ranked
    winners = f"{calls.calls_sql()} AND {key} IN (SELECT {key} FROM ({ranking}))"
    return view_query(view, {"enrichment_calls": winners}) + ranked
