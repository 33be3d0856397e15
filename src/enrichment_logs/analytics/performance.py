"""How providers perform: success and error rates, errors by type, retries, latency percentiles."""

from __future__ import annotations

from enrichment_logs.analytics.connection import Database, reading
from enrichment_logs.analytics.filters import CallFilter, DateRange
from enrichment_logs.analytics.queries import fetch, snapshot
from enrichment_logs.analytics.results import (
    ErrorCount,
    OperationPerformance,
    PerformanceReport,
    table,
)
from enrichment_logs.analytics.views import view_query


def get_performance_metrics(
    db: Database, *, date_range: DateRange | None = None, provider: str | None = None
) -> PerformanceReport:
    """Per provider and operation: calls, success and error rates, retries, p50/p95/p99 duration.

    Rates and percentiles cover the calls that reached the provider (see provider_performance.sql).
    """
    calls = CallFilter(date_range, provider)
    inputs = calls.inputs()
    with reading(db) as connection, snapshot(connection):
        operations = fetch(
            connection,
            view_query("provider_performance", inputs) + " ORDER BY provider, operation",
            calls.parameters,
        )
        errors = fetch(
            connection,
            view_query("provider_errors", inputs)
            + " ORDER BY provider, operation, errors DESC, error_type NULLS LAST",
            calls.parameters,
        )
    return PerformanceReport(table(OperationPerformance, operations), table(ErrorCount, errors))
