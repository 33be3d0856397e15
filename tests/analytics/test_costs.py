"""Finance asks what enrichment cost, by provider, day or lead, and what one enrichment costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from enrichment_logs.analytics import (
    AnalyticsError,
    CostFigures,
    get_cost_per_enrichment,
    get_enrichment_costs,
)
from tests.analytics.conftest import EST, utc

D = Decimal


def test_total_spend_counts_unknown_costs_apart_and_never_as_zero(db: Path) -> None:
    report = get_enrichment_costs(db)

    assert report.totals == CostFigures(
        calls=12, priced_calls=10, unknown_cost_calls=2, known_cost=D("0.0289")
    )
    assert not report.totals.complete
    assert report.rows() == [
        {"provider": "exa", "operation": "search", "calls": 5, "priced_calls": 5,
         "unknown_cost_calls": 0, "known_cost": D("0.025")},
        {"provider": "firecrawl", "operation": "scrape", "calls": 1, "priced_calls": 1,
         "unknown_cost_calls": 0, "known_cost": D("0.002")},
        {"provider": "openai", "operation": "chat.completions.create", "calls": 5,
         "priced_calls": 4, "unknown_cost_calls": 1, "known_cost": D("0.0019")},
        {"provider": "perplexity", "operation": "search", "calls": 1, "priced_calls": 0,
         "unknown_cost_calls": 1, "known_cost": D("0")},
    ]  # fmt: skip


def test_a_call_at_half_past_eleven_in_new_york_is_spent_on_the_next_utc_day(db: Path) -> None:
    by_day = {row["day"]: row for row in get_enrichment_costs(db, group_by=("day",)).rows()}

    assert {day: row["known_cost"] for day, row in by_day.items()} == {
        date(2024, 3, 4): D("0.0082"),
        date(2024, 3, 5): D("0.005"),
        date(2024, 3, 6): D("0.001"),
        date(2024, 3, 7): D("0.0147"),
    }
    assert by_day[date(2024, 3, 5)]["unknown_cost_calls"] == 2


def test_a_range_given_in_new_york_time_selects_new_york_days(db: Path) -> None:
    new_york_day = (
        utc(2024, 3, 4).replace(tzinfo=EST),
        utc(2024, 3, 5).replace(tzinfo=EST),
    )
    utc_day = (utc(2024, 3, 4), utc(2024, 3, 5))

    assert get_enrichment_costs(db, date_range=new_york_day).totals == CostFigures(
        6, 4, 2, D("0.0132")
    )
    assert get_enrichment_costs(db, date_range=utc_day).totals == CostFigures(3, 3, 0, D("0.0082"))


def test_ranges_are_half_open(db: Path) -> None:
    first_call = utc(2024, 3, 4, 10)

    ending_at_it = get_enrichment_costs(db, date_range=(utc(2024, 3, 1), first_call))
    starting_at_it = get_enrichment_costs(db, date_range=(first_call, utc(2024, 3, 4, 10, 0, 1)))

    assert ending_at_it.totals.calls == 0
    assert starting_at_it.totals == CostFigures(1, 1, 0, D("0.005"))


def test_an_empty_range_gives_zero_totals_and_no_rows(db: Path) -> None:
    report = get_enrichment_costs(db, date_range=(utc(2023, 1, 1), utc(2023, 2, 1)))

    assert report.totals == CostFigures(0, 0, 0, D("0"))
    assert report.rows() == []


def test_filters_combine_lead_company_and_provider(db: Path) -> None:
    report = get_enrichment_costs(
        db, company_id="acme", provider="openai", group_by=("lead_id", "status", "model")
    )

    assert report.totals == CostFigures(2, 1, 1, D("0.0012"))
    assert report.rows() == [
        {"lead_id": "lead-a", "status": "success", "model": "gpt-4o-mini", "calls": 1,
         "priced_calls": 1, "unknown_cost_calls": 0, "known_cost": D("0.0012")},
        {"lead_id": "lead-b", "status": "error", "model": "gpt-4o-mini", "calls": 1,
         "priced_calls": 0, "unknown_cost_calls": 1, "known_cost": D("0")},
    ]  # fmt: skip
    assert get_enrichment_costs(db, lead_id="lead-c").totals == CostFigures(3, 3, 0, D("0.0107"))


@pytest.mark.parametrize("field", ["lead_id", "company_id", "provider"])
def test_a_filter_value_with_sql_in_it_matches_nothing_and_harms_nothing(
    db: Path, field: str
) -> None:
    hostile = "lead'; DROP TABLE enrichment_logs; --"

    report = get_enrichment_costs(db, **{field: hostile})  # type: ignore[arg-type]

    assert report.totals.calls == 0
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM enrichment_logs").fetchone() == (12,)


@pytest.mark.parametrize(
    "group_by",
    [("provider; DROP TABLE enrichment_logs",), ("cost",), "provider", ("day", "day")],
)
def test_group_by_takes_only_the_listed_columns(db: Path, group_by: object) -> None:
    with pytest.raises(AnalyticsError, match="group"):
        get_enrichment_costs(db, group_by=group_by)  # type: ignore[arg-type]


def test_no_group_by_gives_totals_only(db: Path) -> None:
    report = get_enrichment_costs(db, group_by=())

    assert report.totals.calls == 12
    assert report.rows() == []


def test_cost_per_session_and_per_enriched_lead(db: Path) -> None:
    figures = get_cost_per_enrichment(db)

    # Sessions s1 0.0082, s3 0.0107, s4 0.004; s2 has unknown costs and is left out.
    session = figures.per_session
    assert (session.priced, session.with_unknown_cost) == (3, 1)
    assert session.mean_cost == D("0.0076333333")  # 0.0229 / 3, to the column's 10 decimals
    assert session.p50_cost == D("0.0082")
    assert session.p95_cost == D("0.01045")  # 0.0082 + 0.9 * (0.0107 - 0.0082)
    # Enriched leads (no failed call): lead-a 0.0082 and lead-d 0.004.
    lead = figures.per_enriched_lead
    assert (lead.priced, lead.with_unknown_cost) == (2, 0)
    assert (lead.mean_cost, lead.p50_cost, lead.p95_cost) == (
        D("0.0061"),
        D("0.0061"),
        D("0.00799"),
    )
    assert [row["unit"] for row in figures.rows()] == ["session", "enriched_lead"]


def test_cost_per_enrichment_of_an_empty_range_has_no_figures(db: Path) -> None:
    figures = get_cost_per_enrichment(db, date_range=(utc(2030, 1, 1), utc(2030, 1, 1)))

    assert figures.per_session.priced == 0
    assert figures.per_session.mean_cost is None
    assert figures.per_enriched_lead.p95_cost is None
