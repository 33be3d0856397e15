"""A dashboard charts usage over time, with quiet intervals shown as zero, not skipped."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from enrichment_logs.analytics import AnalyticsError, get_usage_trends
from tests.analytics.conftest import EST, utc

D = Decimal


def test_daily_usage_has_a_row_for_every_day_and_provider(db: Path) -> None:
    trends = get_usage_trends(db)

    points = {(p.bucket_start, p.provider): p for p in trends.points}
    days = [utc(2024, 3, day) for day in (4, 5, 6, 7)]
    providers = ["exa", "firecrawl", "openai", "perplexity"]
    assert list(points) == [(day, provider) for day in days for provider in providers]
    openai_first_day = points[utc(2024, 3, 4), "openai"]
    assert (
        openai_first_day.input_tokens,
        openai_first_day.cached_input_tokens,
        openai_first_day.output_tokens,
        openai_first_day.reasoning_tokens,
        openai_first_day.known_cost,
    ) == (1000, 200, 300, 50, D("0.0012"))
    assert points[utc(2024, 3, 4), "firecrawl"].credits == D("2")
    quiet = points[utc(2024, 3, 6), "openai"]
    assert (quiet.calls, quiet.input_tokens, quiet.credits, quiet.known_cost) == (0, 0, D(0), D(0))
    # the 23:30 New York calls are on the UTC 5th, one with an unknown cost each
    assert points[utc(2024, 3, 5), "perplexity"].unknown_cost_calls == 1


def test_hourly_usage_covers_the_whole_range_even_hours_without_calls(db: Path) -> None:
    trends = get_usage_trends(
        db, interval="hour", date_range=(utc(2024, 3, 4, 9), utc(2024, 3, 4, 12)), provider="exa"
    )

    assert [(p.bucket_start, p.calls, p.known_cost) for p in trends.points] == [
        (utc(2024, 3, 4, 9), 0, D("0")),
        (utc(2024, 3, 4, 10), 1, D("0.005")),
        (utc(2024, 3, 4, 11), 0, D("0")),
    ]


def test_weekly_usage_starts_weeks_on_monday_utc(db: Path) -> None:
    # Sunday 3 March 19:00 in New York is Monday 00:00 UTC: the range starts the UTC week.
    trends = get_usage_trends(
        db, interval="week", date_range=(utc(2024, 3, 3, 19).replace(tzinfo=EST), utc(2024, 3, 18))
    )

    exa = [(p.bucket_start, p.calls) for p in trends.points if p.provider == "exa"]
    assert exa == [(utc(2024, 3, 4), 5), (utc(2024, 3, 11), 0)]


def test_a_range_without_calls_gives_no_rows(db: Path) -> None:
    assert get_usage_trends(db, date_range=(utc(2023, 1, 1), utc(2023, 1, 8))).rows() == []


def test_an_empty_log_gives_no_rows(empty_db: Path) -> None:
    assert get_usage_trends(empty_db).rows() == []


def test_unknown_interval_is_refused(db: Path) -> None:
    with pytest.raises(AnalyticsError, match="interval"):
        get_usage_trends(db, interval="month")  # type: ignore[arg-type]
