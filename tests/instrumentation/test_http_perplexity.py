"""Perplexity calls made through its own SDK (`perplexityai`, httpx) are logged with no logging
code: the Agent API with the cost Perplexity reports, streamed or not, the Search API at its
per-request price, and legacy Sonar chat completions."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import perplexity
import pytest

from enrichment_logs.emulator import ProviderEmulator

KEY = "pplx-test-key"
MILLION = Decimal(1_000_000)
SONAR_INPUT, SONAR_OUTPUT, SONAR_CACHE_READ = Decimal("0.25"), Decimal("2.50"), Decimal("0.0625")
WEB_SEARCH = Decimal("0.0025")  # per search_web invocation
SEARCH_API, FAST_SEARCH_API = Decimal("0.005"), Decimal("0.001")  # per request
PAUSE = 0.2


def client(emulator: ProviderEmulator) -> perplexity.Perplexity:
    return perplexity.Perplexity(api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0)


def list_price(row: dict[str, Any], searches: int) -> Decimal:
    """perplexity/sonar tokens plus web searches, at the list prices of providers.md."""
    cached: int = row["cached_input_tokens"] or 0
    uncached: int = row["input_tokens"] - cached
    output: int = row["output_tokens"]
    tokens = uncached * SONAR_INPUT + cached * SONAR_CACHE_READ + output * SONAR_OUTPUT
    return tokens / MILLION + searches * WEB_SEARCH


def test_an_agent_call_costs_what_perplexity_reported(http_logs, emulator: ProviderEmulator):
    client(emulator).responses.create(
        model="perplexity/sonar", input="Who runs Acme?", tools=[{"type": "web_search"}]
    )

    [row] = http_logs.rows()
    assert (row["provider"], row["operation"]) == ("perplexity", "responses.create")
    assert (row["model"], row["output_tokens"]) == ("perplexity/sonar", 64)
    assert row["cost_source"] == "provider"
    assert row["cost"] == pytest.approx(list_price(row, searches=1), abs=Decimal("1e-9"))
    assert json.loads(row["attributes"])["enrichment.usage.tool.search_web"] == 1


def test_a_streamed_agent_call_is_priced_when_the_stream_ends(
    http_logs, emulator: ProviderEmulator
):
    stream = client(emulator).responses.create(preset="low", input="Acme?", stream=True)
    events: list[str] = []
    for event in stream:
        if not events:
            time.sleep(PAUSE)  # the caller reads slowly: the call lasts until the stream ends
        events.append(event.type)

    [row] = http_logs.rows()
    assert events[-1] == "response.completed"
    assert row["duration_ms"] >= PAUSE * 1000
    assert row["operation"] == "responses.create"
    assert row["cost"] == pytest.approx(list_price(row, searches=1), abs=Decimal("1e-9"))


def test_the_search_api_is_priced_per_request_by_its_search_type(
    http_logs, emulator: ProviderEmulator
):
    client(emulator).search.create(query="Acme Corp funding", max_results=3)
    client(emulator).search.create(query="Acme Corp funding", search_type="fast")

    rows = http_logs.rows()
    assert [(row["operation"], row["cost"]) for row in rows] == [
        ("search", SEARCH_API),
        ("search", FAST_SEARCH_API),
    ]


def test_legacy_sonar_chat_is_still_logged(http_logs, emulator: ProviderEmulator):
    client(emulator).chat.completions.create(
        model="sonar", messages=[{"role": "user", "content": "Acme?"}]
    )

    [row] = http_logs.rows()
    assert (row["operation"], row["model"], row["cost_source"]) == (
        "chat.completions.create",
        "sonar",
        "provider",
    )
    tokens = (row["input_tokens"] + row["output_tokens"]) * Decimal(1) / MILLION  # $1/M each
    assert row["cost"] == pytest.approx(tokens + Decimal("0.005"), abs=Decimal("1e-9"))


async def test_the_async_client_is_logged_the_same_way(http_logs, emulator: ProviderEmulator):
    async with perplexity.AsyncPerplexity(
        api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0
    ) as async_client:
        await async_client.search.create(query="Acme")
        await async_client.responses.create(preset="fast", input="Acme?")
        stream = await async_client.responses.create(preset="fast", input="Acme?", stream=True)
        async for _ in stream:
            pass

    search, agent, streamed = http_logs.rows()
    assert (search["operation"], search["cost"]) == ("search", SEARCH_API)
    for row in (agent, streamed):
        assert (row["operation"], row["cost_source"]) == ("responses.create", "provider")
        assert row["cost"] == pytest.approx(list_price(row, searches=1), abs=Decimal("1e-9"))
