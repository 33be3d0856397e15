"""Pricing never breaks the pipeline: what it cannot price is unknown, with a reason, never $0."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment_logs import semconv
from enrichment_logs.pricing.engine import CostEngine
from enrichment_logs.pricing.usage import ExtraValue, Pricer, Usage

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
ENGINE: Pricer = CostEngine()  # the engine is what the exporter's Pricer protocol asks for


def test_an_unknown_model_has_no_cost_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    usage = Usage(model="gpt-from-the-future-for-a-warning-test", input_tokens=10, output_tokens=5)

    with caplog.at_level(logging.WARNING, logger="enrichment_logs.pricing"):
        first = ENGINE.price("openai", "chat.completions.create", usage, AT)
        second = ENGINE.price("openai", "chat.completions.create", usage, AT)

    assert first == second
    assert first.amount is None
    assert first.source == "unknown"
    assert first.reason is not None
    assert "gpt-from-the-future-for-a-warning-test" in first.reason
    warnings = [r for r in caplog.records if r.name == "enrichment_logs.pricing"]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("provider", "operation"),
    [
        ("openai", "chat.completions.create"),
        ("perplexity", "responses.create"),
        ("exa", "contents"),
        ("firecrawl", "search"),
        ("firecrawl", "crawl"),
        ("exa", "research"),
        ("some-new-api", "lookup"),
    ],
)
def test_a_call_without_usage_has_an_unknown_cost_with_a_reason(
    provider: str, operation: str
) -> None:
    cost = ENGINE.price(provider, operation, Usage(), AT)

    assert cost.amount is None
    assert cost.source == "unknown"
    assert cost.reason


def test_a_call_with_unusable_token_counts_is_not_priced_from_the_rest() -> None:
    usage = Usage(
        model="gpt-4o",
        output_tokens=5,
        invalid={semconv.GEN_AI_USAGE_INPUT_TOKENS: "not an integer: 'lots'"},
    )

    cost = ENGINE.price("openai", "chat.completions.create", usage, AT)

    assert cost.amount is None
    assert cost.reason is not None
    assert "lots" in cost.reason


def test_more_cached_than_input_tokens_is_unknown_not_negative() -> None:
    usage = Usage(model="gpt-4o", input_tokens=100, cached_input_tokens=300)

    cost = ENGINE.price("openai", "chat.completions.create", usage, AT)

    assert cost.amount is None
    assert cost.reason is not None
    assert "exceed" in cost.reason


def test_a_perplexity_tool_we_have_no_price_for_leaves_the_cost_unknown() -> None:
    usage = Usage(
        model="perplexity/sonar", input_tokens=10, output_tokens=5, extra={"tool.browse_maps": 2}
    )

    cost = ENGINE.price("perplexity", "responses.create", usage, AT)

    assert cost.amount is None
    assert cost.reason == "perplexity tool.browse_maps has no known price"


def test_a_count_that_is_not_a_number_is_unknown() -> None:
    cost = ENGINE.price("exa", "search", Usage(extra={"results": "many"}), AT)

    assert cost.amount is None
    assert cost.reason is not None
    assert "results" in cost.reason


_extra_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=8)
)
_extras = st.dictionaries(
    st.sampled_from(
        [
            "search_type",
            "results",
            "summaries",
            "pages",
            "json_format",
            "service_tier",
            "processing",
            "web_search_calls",
            "search_context_size",
            "tool.search_web",
            "tool.x",
        ]
    ),
    _extra_values,
).map(lambda extra: {key: value for key, value in extra.items() if value is not None})
_counts = st.one_of(st.none(), st.integers(0, 10**9))


@settings(max_examples=300, deadline=None)
@given(
    provider=st.sampled_from(["openai", "perplexity", "exa", "firecrawl", "other"]),
    operation=st.sampled_from(["search", "contents", "scrape", "responses.create", "x"]),
    model=st.one_of(st.none(), st.sampled_from(["gpt-4o", "perplexity/sonar", "sonar", "?"])),
    input_tokens=_counts,
    cached=_counts,
    output=_counts,
    credits=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=3)),
    extra=_extras,
)
def test_pricing_never_raises_and_never_invents_a_negative_cost(
    provider: str,
    operation: str,
    model: str | None,
    input_tokens: int | None,
    cached: int | None,
    output: int | None,
    credits: D | None,
    extra: dict[str, ExtraValue],
) -> None:
    usage = Usage(
        model=model,
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        output_tokens=output,
        credits=credits,
        extra=extra,
    )

    cost = ENGINE.price(provider, operation, usage, AT)

    assert (cost.amount is None) == (cost.source == "unknown")
    assert cost.amount is None or cost.amount >= D(0)
    assert cost.reason
