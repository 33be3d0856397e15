"""enrichment_logs.analytics: what the logged calls cost and how the providers performed.

The figures are defined once, as SQL views (`views/*.sql`): `create_views(connection)` puts them
in the database for the DuckDB CLI and Grafana, and the functions here run the same SQL with
the caller's filters bound as parameters, so every reader gets identical numbers.

Usage::

    from datetime import datetime, timezone
    from enrichment_logs import analytics

    may = (datetime(2024, 5, 1, tzinfo=timezone.utc), datetime(2024, 6, 1, tzinfo=timezone.utc))
    report = analytics.get_enrichment_costs("enrichment_logs.duckdb", date_range=may)
    print(report.totals.known_cost, report.totals.unknown_cost_calls)
    for row in report.rows():
        print(row)

Every function takes the database as a path (opened read-only; a DuckDB file is readable only
while no other process writes it) or as an open connection (a cursor of it is used, so the
caller's session settings stay as they were). Costs are exact `Decimal`s; a call whose cost is
unknown is counted in `unknown_cost_calls` and never added as 0. A `date_range` is a half-open
`(start, end)` pair of time-zone aware datetimes and selects calls by the instant they started;
days, hours and weeks are UTC. Results are frozen dataclasses with `.rows()` (a list of dicts)
and `.to_arrow()` (when pyarrow is installed).
"""

from enrichment_logs.analytics.connection import AnalyticsError, Database
from enrichment_logs.analytics.costs import (
    GROUP_BY_COLUMNS,
    get_cost_per_enrichment,
    get_enrichment_costs,
)
from enrichment_logs.analytics.filters import DateRange
from enrichment_logs.analytics.leads import get_lead_cost_details, get_top_leads
from enrichment_logs.analytics.performance import get_performance_metrics
from enrichment_logs.analytics.results import (
    CompanyCost,
    CostDistribution,
    CostFigures,
    CostGroup,
    CostPerEnrichment,
    CostReport,
    ErrorCount,
    LeadCall,
    LeadCost,
    LeadCostDetails,
    OperationPerformance,
    PerformanceReport,
    Table,
    TopSpenders,
    UsagePoint,
    UsageTrends,
)
from enrichment_logs.analytics.usage import INTERVALS, Interval, get_usage_trends
from enrichment_logs.analytics.views import VIEW_NAMES, create_views

__all__ = [
    "GROUP_BY_COLUMNS",
    "INTERVALS",
    "VIEW_NAMES",
    "AnalyticsError",
    "CompanyCost",
    "CostDistribution",
    "CostFigures",
    "CostGroup",
    "CostPerEnrichment",
    "CostReport",
    "Database",
    "DateRange",
    "ErrorCount",
    "Interval",
    "LeadCall",
    "LeadCost",
    "LeadCostDetails",
    "OperationPerformance",
    "PerformanceReport",
    "Table",
    "TopSpenders",
    "UsagePoint",
    "UsageTrends",
    "create_views",
    "get_cost_per_enrichment",
    "get_enrichment_costs",
    "get_lead_cost_details",
    "get_performance_metrics",
    "get_top_leads",
    "get_usage_trends",
]
