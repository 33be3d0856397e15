"""Exa and Firecrawl calls are priced from our dated price file when they report no cost."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from enrichment_logs.pricing.engine import CostEngine
from enrichment_logs.pricing.usage import ExtraValue, Usage

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
K = D(1000)
STANDARD_PLAN = D("99") / D("100000")  # Firecrawl Standard 100k, monthly: $0.00099 a credit
ENGINE = CostEngine()


def exa(operation: str, **extra: str | int) -> D | None:
    return ENGINE.price("exa", operation, Usage(extra=extra), AT).amount


def test_an_exa_auto_search_pays_for_results_past_ten_and_for_summaries() -> None:
    cost = ENGINE.price(
        "exa", "search", Usage(extra={"search_type": "auto", "results": 25, "summaries": 3}), AT
    )

    assert cost.amount == D("7") / K + 15 * D("1") / K + 3 * D("1") / K
    assert cost.source == "price_table"
    assert cost.price_version == "enrichment-logs prices 2026-11-25"
    assert cost.reason == (
        "exa search type=auto: 1 request x $0.007 + 15 extra results x $0.001"
        " + 3 summaries x $0.001"
    )


@pytest.mark.parametrize(
    ("search_type", "per_thousand"),
    [
        ("auto", D("7")),
        ("neural", D("7")),
        ("lite", D("4")),
        ("fast", D("7")),
        ("instant", D("7")),
        ("deep", D("12")),
        ("deep-reasoning", D("15")),
    ],
)
def test_an_exa_search_costs_its_type_s_price_per_request(
    search_type: str, per_thousand: D
) -> None:
    assert exa("search", search_type=search_type, results=10) == per_thousand / K


def test_a_legacy_instant_search_says_its_price_is_assumed() -> None:
    reason = ENGINE.price("exa", "search", Usage(extra={"search_type": "instant"}), AT).reason

    assert reason is not None
    assert "legacy" in reason
    assert "assumed" in reason


def test_exa_contents_cost_per_page_plus_summaries() -> None:
    assert exa("contents", pages=7) == 7 * D("1") / K
    assert exa("contents", pages=7, summaries=7) == 7 * D("1") / K + 7 * D("1") / K


def test_an_exa_answer_costs_per_request() -> None:
    assert exa("answer") == D("5") / K


def test_find_similar_is_priced_as_an_auto_search() -> None:
    assert exa("find_similar", results=12) == D("7") / K + 2 * D("1") / K


def test_a_firecrawl_scrape_costs_its_reported_credits_at_the_standard_plan_rate() -> None:
    cost = ENGINE.price("firecrawl", "scrape", Usage(credits=D(5)), AT)

    assert cost.amount == 5 * STANDARD_PLAN
    assert cost.source == "price_table"
    assert cost.reason is not None
    assert "Standard 100k" in cost.reason


@pytest.mark.parametrize(
    ("operation", "extra", "credits"),
    [
        pytest.param("scrape", {}, 1, id="scrape: 1 page"),
        pytest.param("scrape", {"pages": 3}, 3, id="scrape: 3 pages"),
        pytest.param("scrape", {"json_format": True}, 1 + 4, id="scrape with JSON format"),
        pytest.param("map", {}, 1, id="map"),
        pytest.param("search", {"results": 10}, 2, id="search: 10 results"),
        pytest.param("search", {"results": 11}, 4, id="search: 11 results round up"),
    ],
)
def test_firecrawl_credits_are_derived_when_not_reported(
    operation: str, extra: dict[str, ExtraValue], credits: int
) -> None:
    cost = ENGINE.price("firecrawl", operation, Usage(extra=extra), AT)

    assert cost.amount == credits * STANDARD_PLAN


def test_a_firecrawl_crawl_needs_its_reported_credits() -> None:
    unreported = ENGINE.price("firecrawl", "crawl", Usage(), AT)
    reported = ENGINE.price("firecrawl", "crawl", Usage(credits=D(120)), AT)

    assert unreported.amount is None
    assert unreported.source == "unknown"
    assert reported.amount == 120 * STANDARD_PLAN


def test_the_firecrawl_rate_from_the_override_file_beats_the_default(tmp_path: Path) -> None:
    overrides = tmp_path / "prices.toml"
    overrides.write_text('[firecrawl]\nusd_per_credit = "0.00083"\n')

    cost = CostEngine(overrides_path=overrides).price(
        "firecrawl", "scrape", Usage(credits=D(5)), AT
    )

    assert cost.amount == 5 * D("0.00083")
    assert cost.source == "override"


def test_the_firecrawl_rate_given_in_code_beats_the_override_file(tmp_path: Path) -> None:
    overrides = tmp_path / "prices.toml"
    overrides.write_text('[firecrawl]\nusd_per_credit = "0.00083"\n')
    engine = CostEngine(overrides_path=overrides, firecrawl_usd_per_credit=D("0.0005"))

    cost = engine.price("firecrawl", "search", Usage(extra={"results": 11}), AT)

    assert cost.amount == 4 * D("0.0005")
    assert cost.source == "override"
