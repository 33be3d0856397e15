"""Sales ops asks which leads and companies cost most, and what one lead's enrichment did."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from enrichment_logs.analytics import (
    AnalyticsError,
    CostFigures,
    get_lead_cost_details,
    get_top_leads,
)
from tests.analytics.conftest import utc

D = Decimal


def test_the_most_expensive_leads_and_companies_come_first(db: Path) -> None:
    top = get_top_leads(db, 2)

    assert [(lead.lead_id, lead.known_cost, lead.enriched) for lead in top.leads] == [
        ("lead-c", D("0.0107"), False),
        ("lead-a", D("0.0082"), True),
    ]
    assert [(c.company_id, c.leads, c.known_cost, c.unknown_cost_calls) for c in top.companies] == [
        ("globex", 2, D("0.0147"), 0),
        ("acme", 2, D("0.0132"), 2),
    ]
    assert top.rows()[0]["lead_id"] == "lead-c"


def test_top_leads_within_a_range(db: Path) -> None:
    top = get_top_leads(db, 10, date_range=(utc(2024, 3, 5), utc(2024, 3, 6)))

    assert [(lead.lead_id, lead.known_cost, lead.unknown_cost_calls) for lead in top.leads] == [
        ("lead-b", D("0.005"), 2)
    ]
    assert get_top_leads(db, 5, date_range=(utc(2020, 1, 1), utc(2020, 1, 2))).rows() == []


def test_one_leads_cost_by_provider_and_its_calls_in_time_order(db: Path) -> None:
    details = get_lead_cost_details(db, "lead-b")

    assert details.totals == CostFigures(3, 1, 2, D("0.005"))
    assert [(r["provider"], r["known_cost"], r["unknown_cost_calls"]) for r in details.rows()] == [
        ("exa", D("0.005"), 0),
        ("openai", D("0"), 1),
        ("perplexity", D("0"), 1),
    ]
    assert [(c.started_at, c.provider, c.status, c.cost, c.retry_count) for c in details.calls] == [
        (utc(2024, 3, 5, 4, 30, 0), "exa", "success", D("0.005"), 0),
        (utc(2024, 3, 5, 4, 30, 1), "openai", "error", None, 2),
        (utc(2024, 3, 5, 4, 30, 2), "perplexity", "success", None, 0),
    ]


def test_a_lead_without_calls_has_zero_cost_not_an_error(db: Path) -> None:
    details = get_lead_cost_details(db, "lead'; DROP TABLE enrichment_logs; --")

    assert details.totals == CostFigures(0, 0, 0, D("0"))
    assert details.rows() == []
    assert len(details.calls) == 0


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_top_leads_wants_a_whole_count(db: Path, n: object) -> None:
    with pytest.raises(AnalyticsError, match="whole number"):
        get_top_leads(db, n)  # type: ignore[arg-type]
