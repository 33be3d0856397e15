"""enrichment-logs: every paid AI/data API call of a lead-enrichment pipeline, priced and
attributed, as an OpenTelemetry span and one row of the `enrichment_logs` table in DuckDB.

Usage::

    import enrichment_logs as el

    el.configure("enrichment_logs.duckdb")

    @el.tool("exa", "search")
    def search(query: str) -> dict: ...

    with el.enrichment_session(lead_id="lead-1", company_id="acme") as session:
        search("acme pricing page")
    print(session.cost, session.calls)
"""

from enrichment_logs.config import ConfigurationError
from enrichment_logs.guards.errors import BudgetExceeded, CircuitOpenError
from enrichment_logs.pricing.usage import Cost, Usage
from enrichment_logs.runtime import EnrichmentLogs, configure
from enrichment_logs.tracing.decorator import tool
from enrichment_logs.tracing.manual import (
    complete_enrichment_log,
    fail_enrichment_log,
    start_enrichment_log,
)
from enrichment_logs.tracing.record import record_usage
from enrichment_logs.tracing.session import enrichment_session

__all__ = [
    "BudgetExceeded",
    "CircuitOpenError",
    "ConfigurationError",
    "Cost",
    "EnrichmentLogs",
    "Usage",
    "complete_enrichment_log",
    "configure",
    "enrichment_session",
    "fail_enrichment_log",
    "record_usage",
    "start_enrichment_log",
    "tool",
]
