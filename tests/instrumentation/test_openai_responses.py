"""A pipeline that uses the Responses API, OpenAI's or Perplexity's through the OpenAI SDK, and
old code on Perplexity's Sonar chat completions: one row per call, with the provider decided by
the host the client talks to and Perplexity's own reported cost."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.instrumentation.openai_helpers import (
    GPT_4O_MINI,
    MILLION,
    ask,
    openai_client,
    the_row,
    token_cost,
)

SONAR_AGENT = (Decimal("0.25"), Decimal("0.0625"), Decimal("2.50"))
"""providers.md §3.4: `perplexity/sonar` input, cache read and output USD per 1M tokens."""
WEB_SEARCH = Decimal("0.0025")
OPENAI_WEB_SEARCH = Decimal("0.01")
"""providers.md §2.5: $10 per 1K hosted web searches."""


pytestmark = pytest.mark.usefixtures("openai_instrumented")


def perplexity_agent(emulator: ProviderEmulator) -> Any:
    """The OpenAI SDK at Perplexity's Agent API, as Perplexity's docs configure it."""
    return openai_client(emulator, emulator.perplexity_base_url + "/v1")


def test_a_response_is_one_row_priced_with_its_web_searches(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    response = openai_client(emulator).responses.create(
        model="gpt-4o-mini",
        input="What does Acme sell?",
        tools=[{"type": "web_search"}],
        max_output_tokens=50,
    )

    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"], row["model"]) == (
        "openai",
        "responses.create",
        "gpt-4o-mini-2024-07-18",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (response.usage.input_tokens, 50)
    assert json.loads(row["attributes"])["enrichment.usage.web_search_calls"] == 1
    tokens = token_cost(GPT_4O_MINI, input=response.usage.input_tokens, output=50)
    assert row["cost"] == tokens + OPENAI_WEB_SEARCH


def test_a_parsed_response_is_logged_like_create(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    response = openai_client(emulator).responses.parse(
        model="gpt-4o-mini", input="Who is Acme?", max_output_tokens=16
    )

    assert response.output_text
    row = the_row(emulated_logs.rows())
    assert row["operation"] == "responses.create"
    assert row["cost"] == token_cost(GPT_4O_MINI, input=response.usage.input_tokens, output=16)


def test_the_perplexity_agent_api_through_the_openai_sdk_is_a_perplexity_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    response = perplexity_agent(emulator).responses.create(
        model="perplexity/sonar",
        input="What does Acme Corp sell?",
        tools=[{"type": "web_search"}],
        max_output_tokens=100,
    )

    row = the_row(emulated_logs.rows())
    reported = Decimal(str(response.usage.cost["total_cost"]))
    input_tokens = response.usage.input_tokens
    assert (row["provider"], row["operation"], row["model"]) == (
        "perplexity",
        "responses.create",
        "perplexity/sonar",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (input_tokens, 100)
    assert (row["cost"], row["cost_source"]) == (reported, "provider")
    hand = token_cost(SONAR_AGENT, input=input_tokens, output=100) + WEB_SEARCH
    assert row["cost"] == hand
    assert json.loads(row["attributes"])["enrichment.usage.tool.search_web"] == 1


def test_a_streamed_perplexity_agent_call_takes_the_reported_cost(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    final = None
    for event in perplexity_agent(emulator).responses.create(
        model="perplexity/sonar", input="Who is Initech?", stream=True
    ):
        if event.type == "response.completed":
            final = event.response

    assert final is not None
    row = the_row(emulated_logs.rows())
    assert row["provider"] == "perplexity"
    assert row["cost"] == Decimal(str(final.usage.cost["total_cost"]))
    assert row["cost_source"] == "provider"


def test_legacy_sonar_chat_through_the_openai_sdk_takes_the_reported_cost(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    sonar = openai_client(emulator, emulator.perplexity_base_url)
    completion = sonar.chat.completions.create(
        model="sonar", messages=ask("Who is Acme?"), max_tokens=40
    )

    row = the_row(emulated_logs.rows())
    prompt_tokens = completion.usage.prompt_tokens
    assert (row["provider"], row["operation"], row["model"]) == (
        "perplexity",
        "chat.completions.create",
        "sonar",
    )
    # sonar: $1 in / $1 out per 1M tokens, plus $5 per 1K requests at the default `low` context.
    hand = (prompt_tokens + 40) * Decimal(1) / MILLION + Decimal(5) / 1000
    assert row["cost"] == hand == Decimal(str(completion.usage.cost["total_cost"]))
    assert row["cost_source"] == "provider"
    assert json.loads(row["attributes"])["enrichment.usage.search_context_size"] == "low"


def test_a_legacy_sonar_stream_is_priced_from_its_last_chunk(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    sonar = openai_client(emulator, emulator.perplexity_base_url)
    chunks = list(
        sonar.chat.completions.create(
            model="sonar", messages=ask("Who is Acme?"), max_tokens=40, stream=True
        )
    )

    assert "stream_options" not in emulator.requests[-1].body  # Sonar streams usage unasked
    row = the_row(emulated_logs.rows())
    assert row["output_tokens"] == 40
    assert row["cost"] == Decimal(str(chunks[-1].usage.cost["total_cost"]))
