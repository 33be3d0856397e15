"""Usage over time: tokens, credits, calls and cost per UTC hour, day or week and provider."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from enrichment_logs.analytics.connection import AnalyticsError, Database, reading
from enrichment_logs.analytics.filters import CallFilter, DateRange
from enrichment_logs.analytics.queries import fetch
from enrichment_logs.analytics.results import UsagePoint, UsageTrends, table
from enrichment_logs.analytics.views import view_query, with_inputs

Interval = Literal["hour", "day", "week"]
INTERVALS: Final = ("hour", "day", "week")
"""Weeks start on Monday (ISO), at 00:00 UTC."""

HOURLY_UP_TO: Final = timedelta(days=2)
"""A span up to this long is charted per hour (at most 49 points)."""
DAILY_UP_TO: Final = timedelta(days=120)
"""A span up to this long (and longer than `HOURLY_UP_TO`) per day; a longer one per week."""

# The usage_window the caller asked for, in place of usage_window.sql's "every day with calls".
_WINDOW_OF_RANGE: Final = (
    "SELECT $unit AS unit, date_trunc($unit, timezone('UTC', $start)) AS first_bucket, "
    "date_trunc($unit, timezone('UTC', $end) - INTERVAL 1 MICROSECOND) AS last_bucket"
)
_WINDOW_OF_CALLS: Final = (
    "SELECT $unit AS unit, date_trunc($unit, timezone('UTC', min(started_at))) AS first_bucket, "
    "date_trunc($unit, timezone('UTC', max(started_at))) AS last_bucket FROM enrichment_calls"
)


def get_usage_trends(
    db: Database,
    *,
    interval: Interval = "day",
    date_range: DateRange | None = None,
    provider: str | None = None,
) -> UsageTrends:
    """Usage per UTC interval and provider, in time order.

    Every interval that overlaps `date_range` (or, without one, lies between the first and the
    last call) is present for every provider with calls in it, with zeros where it had none.
    A range with no calls at all gives no rows.
    """
    if interval not in INTERVALS:
        raise AnalyticsError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    calls = CallFilter(date_range, provider)
    window = _WINDOW_OF_CALLS if date_range is None else _WINDOW_OF_RANGE
    sql = view_query("usage_daily", {**calls.inputs(), "usage_window": window})
    with reading(db) as connection:
        rows = fetch(
            connection,
            sql + " ORDER BY bucket_start, provider",
            {**calls.parameters, "unit": interval},
        )
    return UsageTrends(interval, table(UsagePoint, rows))


def readable_interval(
    date_range: DateRange | None, calls: tuple[datetime, datetime] | None
) -> Interval:
    """The interval trends over a span are shown at, by every report (terminal and HTML).

    The span is `date_range`, or without one, from the first call to the last (`calls`, as
    `first_and_last_call` gives them): hourly up to 2 days, daily up to 120, weekly beyond, so
    a chart has tens of points, not thousands. Without either, daily.
    """
    span = date_range or calls
    if span is None:
        return "day"
    length = span[1] - span[0]
    if length <= HOURLY_UP_TO:
        return "hour"
    return "day" if length <= DAILY_UP_TO else "week"


def first_and_last_call(
    db: Database, *, provider: str | None = None
) -> tuple[datetime, datetime] | None:
    """When the first and the last call (of `provider`) started; None when there is none."""
    calls = CallFilter(provider=provider)
    sql = with_inputs(
        "SELECT min(started_at) AS first, max(started_at) AS last FROM enrichment_calls",
        ("enrichment_calls",),
        calls.inputs(),
    )
    with reading(db) as connection:
        (found,) = fetch(connection, sql, calls.parameters)
    return None if found["first"] is None else (found["first"], found["last"])
