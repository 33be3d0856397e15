"""LLM calls are priced from their token counts at the published rates per 1M tokens.

Every expected amount is written out from the table in research/providers.md (standard, flex,
priority and batch columns), so a reader can check the arithmetic by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import genai_prices
import pytest
from genai_prices import data_snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment_logs.pricing.engine import CostEngine
from enrichment_logs.pricing.usage import Usage

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
M = D(1_000_000)
ENGINE = CostEngine()


def tokens(
    model: str,
    input: int,
    cached: int = 0,
    write: int = 0,
    output: int = 0,
    reasoning: int = 0,
    **extra: str | int,
) -> Usage:
    return Usage(
        model=model,
        input_tokens=input,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        output_tokens=output,
        reasoning_tokens=reasoning,
        extra=extra,
    )


@pytest.mark.parametrize(
    ("provider", "operation", "usage", "expected"),
    [
        pytest.param(
            "openai",
            "chat.completions.create",
            tokens("gpt-4o", 1000, cached=200, output=500),
            (800 * D("2.50") + 200 * D("1.25") + 500 * D("10.00")) / M,
            id="gpt-4o, cached input at half price",
        ),
        pytest.param(
            "openai",
            "chat.completions.create",
            tokens("gpt-4o-mini", 10_000, cached=4000, output=1000),
            (6000 * D("0.15") + 4000 * D("0.075") + 1000 * D("0.60")) / M,
            id="gpt-4o-mini",
        ),
        pytest.param(
            "openai",
            "chat.completions.create",
            tokens("gpt-4.1-nano", 2000, output=300),
            (2000 * D("0.10") + 300 * D("0.40")) / M,
            id="gpt-4.1-nano, shut down 2026-10-23",
        ),
        pytest.param(
            "openai",
            "responses.create",
            tokens("gpt-5-mini", 1200, output=3000, reasoning=2500),
            (1200 * D("0.25") + 3000 * D("2.00")) / M,
            id="gpt-5-mini, reasoning is inside output",
        ),
        pytest.param(
            "openai",
            "responses.create",
            tokens("gpt-5.6-luna", 5000, cached=1000, write=2000, output=800),
            (2000 * D("0.20") + 1000 * D("0.02") + 2000 * (D("1.25") * D("0.20")) + 800 * D("1.20"))
            / M,
            id="gpt-5.6-luna, cache writes at 1.25x input",
        ),
        pytest.param(
            "openai",
            "responses.create",
            tokens("gpt-6-luna", 4000, cached=1000, write=500, output=600),
            (2500 * D("0.10") + 1000 * D("0.01") + 500 * D("0.125") + 600 * D("0.50")) / M,
            id="gpt-6-luna",
        ),
        pytest.param(
            "openai",
            "responses.create",
            tokens("o3", 3000, cached=1000, output=2000, reasoning=1500),
            (2000 * D("2.00") + 1000 * D("0.50") + 2000 * D("8.00")) / M,
            id="o3",
        ),
        pytest.param(
            "openai",
            "embeddings.create",
            tokens("text-embedding-3-small", 8000),
            8000 * D("0.02") / M,
            id="text-embedding-3-small",
        ),
        pytest.param(
            "openai",
            "responses.create",
            tokens("gpt-5-mini", 1000, cached=200, output=500, service_tier="flex"),
            (800 * D("0.125") + 200 * D("0.0125") + 500 * D("1.00")) / M,
            id="gpt-5-mini, flex tier",
        ),
        pytest.param(
            "openai",
            "chat.completions.create",
            tokens("gpt-4o", 1000, output=500, service_tier="priority"),
            (1000 * D("4.25") + 500 * D("17.00")) / M,
            id="gpt-4o, priority tier",
        ),
        pytest.param(
            "openai",
            "chat.completions.create",
            tokens("gpt-4o-mini", 1000, output=500, processing="batch"),
            (1000 * D("0.075") + 500 * D("0.30")) / M,
            id="gpt-4o-mini, batch",
        ),
        pytest.param(
            "perplexity",
            "responses.create",
            tokens("perplexity/sonar", 1000, cached=400, output=500, **{"tool.search_web": 3}),
            (600 * D("0.25") + 400 * D("0.0625") + 500 * D("2.50")) / M + 3 * D("0.0025"),
            id="perplexity/sonar with 3 web searches",
        ),
        pytest.param(
            "perplexity",
            "responses.create",
            tokens(
                "perplexity/sonar",
                1000,
                output=500,
                search_type="fast",
                **{"tool.search_web": 2, "tool.fetch_url": 4},
            ),
            (1000 * D("0.25") + 500 * D("2.50")) / M + 2 * D("0.001") + 4 * D("0.0005"),
            id="perplexity/sonar with fast search and url fetches",
        ),
        pytest.param(
            "perplexity",
            "chat.completions.create",
            tokens("sonar-pro", 1000, output=500, search_context_size="high"),
            (1000 * D("3") + 500 * D("15")) / M + D("14") / 1000,
            id="legacy sonar-pro, high search context",
        ),
        pytest.param(
            "perplexity",
            "chat.completions.create",
            tokens("sonar", 1000, output=500, search_context_size="low"),
            (1000 * D("1") + 500 * D("1")) / M + D("5") / 1000,
            id="legacy sonar, low search context (not the $12 maximum)",
        ),
    ],
)
def test_a_call_costs_its_tokens_at_the_published_rates(
    provider: str, operation: str, usage: Usage, expected: D
) -> None:
    cost = ENGINE.price(provider, operation, usage, AT)

    assert cost.amount == expected
    assert cost.source == "price_table"
    assert cost.price_version is not None
    assert cost.price_version.startswith(f"genai-prices {genai_prices.__version__}")


def test_a_retired_model_is_still_priced_for_old_rows() -> None:
    before = ENGINE.price("openai", "responses.create", tokens("o4-mini", 1000, output=1000), AT)
    after = ENGINE.price(
        "openai", "responses.create", tokens("o4-mini", 1000, output=1000), datetime(2027, 3, 1)
    )

    assert before.amount == after.amount == (1000 * D("1.10") + 1000 * D("4.40")) / M


def test_a_call_is_priced_at_the_rate_of_its_day() -> None:
    usage = tokens("o3", 1000, output=1000)

    today = ENGINE.price("openai", "responses.create", usage, AT)
    before_the_june_2025_cut = ENGINE.price(
        "openai", "responses.create", usage, datetime(2025, 5, 1)
    )
    today_again = ENGINE.price("openai", "responses.create", usage, AT)

    assert before_the_june_2025_cut.amount == (1000 * D("10") + 1000 * D("40")) / M
    assert today.amount == today_again.amount == (1000 * D("2") + 1000 * D("8")) / M


def test_a_prompt_over_272k_tokens_is_billed_whole_at_the_long_context_rate() -> None:
    cost = ENGINE.price(
        "openai", "responses.create", tokens("gpt-6-luna", 300_000, output=1000), AT
    )

    assert cost.amount == (300_000 * (2 * D("0.10")) + 1000 * (D("1.5") * D("0.50"))) / M


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-nano"])
def test_openai_web_searches_cost_10_dollars_per_thousand(model: str) -> None:
    plain = ENGINE.price("openai", "responses.create", tokens(model, 1000, output=100), AT)
    searched = ENGINE.price(
        "openai", "responses.create", tokens(model, 1000, output=100, web_search_calls=3), AT
    )

    assert plain.amount is not None
    assert searched.amount == plain.amount + 3 * D("10") / 1000


def test_a_tier_the_model_has_no_prices_for_is_priced_at_standard_rates_and_says_so() -> None:
    cost = ENGINE.price(
        "openai", "chat.completions.create", tokens("gpt-4o", 1000, service_tier="flex"), AT
    )

    assert cost.amount == 1000 * D("2.50") / M
    assert cost.reason is not None
    assert "standard rates" in cost.reason


def test_a_snapshot_name_is_priced_as_its_model() -> None:
    cost = ENGINE.price("openai", "chat.completions.create", tokens("gpt-4o-2024-08-06", 1000), AT)

    assert cost.amount == 1000 * D("2.50") / M
    assert cost.reason is not None
    assert "as gpt-4o" in cost.reason


def test_a_third_party_model_on_perplexity_is_priced_as_its_provider_lists_it() -> None:
    on_perplexity = ENGINE.price(
        "perplexity", "responses.create", tokens("openai/gpt-5.4", 1000, output=500), AT
    )
    on_openai = ENGINE.price("openai", "responses.create", tokens("gpt-5.4", 1000, output=500), AT)

    assert on_perplexity.amount is not None
    assert on_perplexity.amount == on_openai.amount


def test_a_perplexity_search_api_call_costs_per_request() -> None:
    web = ENGINE.price("perplexity", "search", Usage(), AT)
    fast = ENGINE.price("perplexity", "search", Usage(extra={"search_type": "fast"}), AT)

    assert web.amount == D("5") / 1000
    assert fast.amount == D("1") / 1000
    assert web.price_version == "enrichment-logs prices 2026-11-25"


_OPENAI_MODELS = sorted(
    model.id
    for provider in data_snapshot.get_snapshot().providers
    if provider.id == "openai"
    for model in provider.models
)
_CONTEXTS: list[dict[str, str]] = [
    {},
    {"service_tier": "flex"},
    {"service_tier": "priority"},
    {"service_tier": "fast"},
    {"processing": "batch"},
]


@st.composite
def _openai_calls(draw: st.DrawFn) -> tuple[Usage, datetime]:
    """Any OpenAI model, tier, day and token counts that add up (cached + written <= input)."""
    input_tokens = draw(st.integers(0, 2_000_000))
    cached = draw(st.integers(0, input_tokens))
    day = draw(st.dates(date(2024, 1, 1), date(2027, 6, 30)))
    usage = Usage(
        model=draw(st.sampled_from(_OPENAI_MODELS)),
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        cache_write_tokens=draw(st.integers(0, input_tokens - cached)),
        output_tokens=draw(st.integers(0, 200_000)),
        extra=draw(st.sampled_from(_CONTEXTS)),
    )
    return usage, datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@settings(max_examples=400, deadline=None)
@given(_openai_calls())
def test_every_openai_model_costs_what_genai_prices_computes(call: tuple[Usage, datetime]) -> None:
    usage, at = call
    assert usage.model is not None
    genai_usage = genai_prices.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
    )
    context = {key: str(value) for key, value in usage.extra.items()}
    try:
        expected = genai_prices.calc_price(
            genai_usage,
            usage.model,
            provider_id="openai",
            genai_request_timestamp=at,
            price_context=context,
        ).total_price
    except (LookupError, ValueError):
        expected = None

    assert ENGINE.price("openai", "responses.create", usage, at).amount == expected
