"""Perplexity's Agent API (through `perplexityai` and through the OpenAI SDK), its Search API, and
the retired Sonar chat completions, each with the usage and `usage.cost` Perplexity reports."""

from __future__ import annotations

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

perplexity = pytest.importorskip("perplexity")
openai = pytest.importorskip("openai")


def client(emulator: ProviderEmulator):
    return perplexity.Perplexity(api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0)


def openai_client(emulator: ProviderEmulator):
    return openai.OpenAI(api_key=KEY, base_url=emulator.perplexity_base_url + "/v1", max_retries=0)


def test_agent_api_reports_tokens_searches_and_their_cost(emulator: ProviderEmulator) -> None:
    response = client(emulator).responses.create(
        model="perplexity/sonar",
        input="What does Acme Corp sell?",
        tools=[{"type": "web_search"}],
        max_output_tokens=100,
    )

    usage = response.usage
    assert response.status == "completed"
    assert response.model == "perplexity/sonar"
    assert response.output_text
    assert usage.output_tokens == 100
    assert usage.total_tokens == usage.input_tokens + 100
    assert usage.input_tokens > 400  # the search results the model read
    assert usage.tool_calls_details["search_web"].invocation == 1
    assert usage.cost.currency == "USD"
    assert usage.cost.input_cost == pytest.approx(usage.input_tokens * 0.25 / 1e6)
    assert usage.cost.output_cost == pytest.approx(100 * 2.50 / 1e6)
    assert usage.cost.tool_calls_cost == pytest.approx(0.0025)
    assert usage.cost.total_cost == pytest.approx(
        usage.cost.input_cost + usage.cost.output_cost + usage.cost.tool_calls_cost
    )
    assert emulator.requests[0].path == "/v1/responses"


def test_a_call_without_search_has_no_tool_cost(emulator: ProviderEmulator) -> None:
    usage = client(emulator).responses.create(model="perplexity/sonar", input="Hi").usage

    assert usage.tool_calls_details is None
    assert usage.cost.tool_calls_cost is None
    assert usage.cost.total_cost == pytest.approx(usage.cost.input_cost + usage.cost.output_cost)


@pytest.mark.parametrize(("preset", "searches"), [("fast", 1), ("medium", 2), ("pro-search", 1)])
def test_a_preset_searches_and_resolves_to_sonar(
    emulator: ProviderEmulator, preset: str, searches: int
) -> None:
    response = client(emulator).responses.create(preset=preset, input="Acme Corp")

    assert response.model == "perplexity/sonar"
    assert response.usage.tool_calls_details["search_web"].invocation == searches
    assert response.usage.cost.tool_calls_cost == pytest.approx(searches * 0.0025)


def test_a_repeated_long_prompt_is_read_from_the_cache(emulator: ProviderEmulator) -> None:
    prompt = "Summarise the public filings of Acme Corp. " * 120
    first = client(emulator).responses.create(model="perplexity/sonar", input=prompt)
    second = client(emulator).responses.create(model="perplexity/sonar", input=prompt)

    assert first.usage.input_tokens_details.cache_read_input_tokens == 0
    assert second.usage.input_tokens_details.cache_read_input_tokens > 0
    assert second.usage.cost.cache_read_cost > 0
    assert second.usage.cost.input_cost < first.usage.cost.input_cost


def test_agent_api_through_the_openai_sdk_exposes_the_cost(emulator: ProviderEmulator) -> None:
    response = openai_client(emulator).responses.create(
        model="perplexity/sonar", input="Acme Corp?", tools=[{"type": "web_search"}]
    )

    assert response.output_text
    assert response.usage.output_tokens == 64
    assert response.usage.cost["total_cost"] > 0.0025
    assert response.usage.tool_calls_details == {"search_web": {"invocation": 1}}
    assert emulator.count("perplexity", "/v1/responses") == 1


def test_agent_api_is_served_at_its_canonical_path(emulator: ProviderEmulator) -> None:
    reply = send(emulator.perplexity_base_url + "/v1/agent", {"preset": "fast", "input": "Acme?"})

    assert reply.status == 200
    assert reply.json()["usage"]["cost"]["total_cost"] > 0


def test_agent_api_rejects_unknown_fields(emulator: ProviderEmulator) -> None:
    with pytest.raises(openai.BadRequestError):
        openai_client(emulator).responses.create(
            model="perplexity/sonar", input="Hi", extra_body={"stream_options_typo": True}
        )


def test_agent_stream_ends_with_completed_usage_and_no_done_sentinel(
    emulator: ProviderEmulator,
) -> None:
    events = list(client(emulator).responses.create(preset="low", input="Acme?", stream=True))
    raw = send(
        emulator.perplexity_base_url + "/v1/agent",
        {"preset": "low", "input": "Acme?", "stream": True},
    )

    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert events[-1].response.usage.cost.total_cost > 0
    assert b"[DONE]" not in raw.data
    assert b"event:" not in raw.data


def test_agent_stream_through_the_openai_sdk(emulator: ProviderEmulator) -> None:
    stream = openai_client(emulator).responses.create(
        model="perplexity/sonar", input="Acme?", stream=True
    )
    events = list(stream)

    assert events[-1].type == "response.completed"
    assert events[-1].response.usage.cost["total_cost"] > 0


def test_search_api_returns_ranked_results_without_usage(emulator: ProviderEmulator) -> None:
    search = client(emulator).search.create(query="Acme Corp funding", max_results=3)
    raw = send(emulator.perplexity_base_url + "/search", {"query": "Acme Corp funding"})

    assert len(search.results) == 3
    assert search.results[0].url.startswith("https://")
    assert search.results[0].snippet
    assert search.id
    assert set(raw.json()) == {"id", "results", "server_time"}
    assert len(raw.json()["results"]) == 10


@pytest.mark.parametrize(("size", "request_cost"), [(None, 0.005), ("high", 0.012)])
def test_legacy_sonar_chat_is_served_with_its_cost(
    emulator: ProviderEmulator, size: str | None, request_cost: float
) -> None:
    options = {} if size is None else {"web_search_options": {"search_context_size": size}}
    completion = client(emulator).chat.completions.create(
        model="sonar", messages=[{"role": "user", "content": "Acme?"}], max_tokens=50, **options
    )

    usage = completion.usage
    assert completion.choices[0].message.content
    assert usage.completion_tokens == 50
    assert usage.search_context_size == (size or "low")
    assert usage.cost.request_cost == pytest.approx(request_cost)
    assert usage.cost.input_tokens_cost == pytest.approx(usage.prompt_tokens * 1 / 1e6)
    assert usage.cost.total_cost == pytest.approx(
        usage.cost.input_tokens_cost + usage.cost.output_tokens_cost + request_cost
    )
    assert completion.citations


def test_legacy_sonar_stream_prices_only_the_last_chunk(emulator: ProviderEmulator) -> None:
    chunks = list(
        client(emulator).chat.completions.create(
            model="sonar-pro", messages=[{"role": "user", "content": "Acme?"}], stream=True
        )
    )

    *interim, last = chunks
    assert all(chunk.usage.cost.request_cost is None for chunk in interim)
    assert all(chunk.usage.cost.total_cost == 0 for chunk in interim)
    assert last.usage.cost.request_cost == pytest.approx(0.006)
    assert last.choices[0].finish_reason == "stop"


def test_legacy_sonar_chat_through_the_openai_sdk(emulator: ProviderEmulator) -> None:
    completion = openai.OpenAI(
        api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0
    ).chat.completions.create(model="sonar", messages=[{"role": "user", "content": "Acme?"}])

    assert completion.usage.cost["total_cost"] > 0
    assert emulator.count("perplexity", "/chat/completions") == 1


async def test_the_async_client(emulator: ProviderEmulator) -> None:
    async_client = perplexity.AsyncPerplexity(
        api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0
    )
    search = await async_client.search.create(query="Acme")
    response = await async_client.responses.create(preset="fast", input="Acme?")
    await async_client.close()

    assert len(search.results) == 10
    assert response.usage.cost.total_cost > 0
