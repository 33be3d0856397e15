"""How providers perform: success and error rates, errors by type, retries, latency percentiles."""

from __future__ import annotations

from typing import Final

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

EVERY_SAMPLE_KEY: Final = 2**64 - 1
"""The largest `sample_key`: a sample up to it holds every call."""


def get_performance_metrics(
    db: Database,
    *,
    date_range: DateRange | None = None,
    provider: str | None = None,
    exact: bool = False,
) -> PerformanceReport:
    """Per provider and operation: calls, success and error rates, retries, p50/p95/p99 duration.

    Rates and percentiles cover the calls that reached the provider (see provider_performance.sql).
    The percentiles are exact up to 1 000 000 calls in the range; beyond, they come from a
    deterministic sample (latency_sample.sql), unless `exact` asks for every call (~1 s of CPU
    per 10 million). `percentile_sample` on the report and `percentiles_exact` on each row say
    which it is.
    """
    calls = CallFilter(date_range, provider)
    inputs = calls.inputs()
    with reading(db) as connection, snapshot(connection):
        if exact:
            one_in, max_sample_key = 1, EVERY_SAMPLE_KEY
        else:
            (sample,) = fetch(connection, view_query("latency_sample", inputs), calls.parameters)
            one_in, max_sample_key = sample["one_in"], sample["max_sample_key"]
        operations = fetch(
            connection,
            view_query("provider_performance", inputs) + " ORDER BY provider, operation",
            {**calls.parameters, "max_sample_key": max_sample_key},
        )
        errors = fetch(
            connection,
            view_query("provider_errors", inputs)
            + " ORDER BY provider, operation, errors DESC, error_type NULLS LAST",
            calls.parameters,
        )
    return PerformanceReport(
        table(OperationPerformance, operations), table(ErrorCount, errors), one_in
    )
