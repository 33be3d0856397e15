"""The official `openai` SDK, pointed at the emulator, reads every usage field it would read from
OpenAI: cached and cache-write input, reasoning output, service tier, dated model snapshot."""

from __future__ import annotations

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

openai = pytest.importorskip("openai")

LONG_SYSTEM_PROMPT = "You research companies for a sales team. " * 150  # about 1,600 tokens


def client(emulator: ProviderEmulator):
    return openai.OpenAI(api_key=KEY, base_url=emulator.openai_base_url, max_retries=0)


def ask(question: str, system: str = LONG_SYSTEM_PROMPT) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def test_chat_completion_reports_usage_and_the_dated_snapshot(emulator: ProviderEmulator) -> None:
    completion = client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?", system="Be brief."), max_tokens=20
    )

    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.service_tier == "default"
    assert completion.usage.completion_tokens == 20
    assert completion.usage.prompt_tokens == 3 + 3 + 2 * 4 + 3  # ~4 chars/token, overheads
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 20
    assert completion.usage.prompt_tokens_details.cached_tokens == 0
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0
    assert completion.choices[0].message.content
    [request] = emulator.requests
    assert (request.provider, request.path, request.status) == (
        "openai",
        "/v1/chat/completions",
        200,
    )
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "gpt-4o-mini"


def test_an_unknown_model_name_is_echoed(emulator: ProviderEmulator) -> None:
    completion = client(emulator).chat.completions.create(model="gpt-6-luna", messages=ask("Hi"))

    assert completion.model == "gpt-6-luna"


def test_a_repeated_long_prompt_prefix_is_reported_as_cached(emulator: ProviderEmulator) -> None:
    openai_client = client(emulator)
    first = openai_client.chat.completions.create(model="gpt-4o", messages=ask("Who is Acme?"))
    second = openai_client.chat.completions.create(model="gpt-4o", messages=ask("Who is Initech?"))

    cached = second.usage.prompt_tokens_details.cached_tokens
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert cached >= 1024
    assert cached % 128 == 0
    assert cached <= second.usage.prompt_tokens


def test_short_prompts_are_never_cached(emulator: ProviderEmulator) -> None:
    openai_client = client(emulator)
    for _ in range(2):
        completion = openai_client.chat.completions.create(
            model="gpt-4o", messages=ask("Hi", system="Short.")
        )
        assert completion.usage.prompt_tokens_details.cached_tokens == 0


def test_prompt_cache_key_keeps_caches_apart(emulator: ProviderEmulator) -> None:
    openai_client = client(emulator)

    def cached(key: str) -> int:
        completion = openai_client.chat.completions.create(
            model="gpt-4o", messages=ask("Who is Acme?"), prompt_cache_key=key
        )
        return int(completion.usage.prompt_tokens_details.cached_tokens)

    assert cached("tenant-a") == 0
    assert cached("tenant-b") == 0
    assert cached("tenant-a") > 0


def test_cache_writes_are_reported_only_for_models_that_bill_them(
    emulator: ProviderEmulator,
) -> None:
    openai_client = client(emulator)
    billed = openai_client.chat.completions.create(model="gpt-5.6-luna", messages=ask("Acme?"))
    unbilled = openai_client.chat.completions.create(model="gpt-4.1", messages=ask("Acme?"))

    assert billed.usage.prompt_tokens_details.cache_write_tokens >= 1024
    assert unbilled.usage.prompt_tokens_details.cache_write_tokens == 0


@pytest.mark.parametrize(
    ("model", "reasons"), [("o4-mini", True), ("gpt-5", True), ("gpt-4o", False)]
)
def test_reasoning_models_report_reasoning_tokens_inside_output(
    emulator: ProviderEmulator, model: str, reasons: bool
) -> None:
    completion = client(emulator).chat.completions.create(
        model=model, messages=ask("Hi"), max_completion_tokens=100
    )

    reasoning = completion.usage.completion_tokens_details.reasoning_tokens
    assert completion.usage.completion_tokens == 100
    assert (0 < reasoning < 100) if reasons else reasoning == 0


@pytest.mark.parametrize(
    ("requested", "served"),
    [(None, "default"), ("auto", "default"), ("flex", "flex"), ("priority", "priority")],
)
def test_service_tier_echoes_the_request(
    emulator: ProviderEmulator, requested: str | None, served: str
) -> None:
    extra = {} if requested is None else {"service_tier": requested}
    completion = client(emulator).chat.completions.create(
        model="gpt-5", messages=ask("Hi"), **extra
    )

    assert completion.service_tier == served


def test_stream_with_include_usage_ends_with_a_usage_only_chunk(emulator: ProviderEmulator) -> None:
    stream = client(emulator).chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("Hi"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    *content, last = chunks
    assert last.choices == []
    assert last.usage.completion_tokens == 64
    assert all(chunk.usage is None for chunk in content)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in content)


def test_stream_without_include_usage_carries_no_usage(emulator: ProviderEmulator) -> None:
    chunks = list(
        client(emulator).chat.completions.create(
            model="gpt-4o-mini", messages=ask("Hi"), stream=True
        )
    )
    raw = send(
        emulator.openai_base_url + "/chat/completions",
        {"model": "gpt-4o-mini", "messages": ask("Hi"), "stream": True},
    )

    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert b'"usage"' not in raw.data
    assert raw.data.endswith(b"data: [DONE]\n\n")
    assert raw.headers["content-type"].startswith("text/event-stream")


def test_responses_reports_usage_reasoning_and_web_searches(emulator: ProviderEmulator) -> None:
    response = client(emulator).responses.create(
        model="gpt-5-mini",
        instructions="Research the company.",
        input="Acme Corp pricing",
        tools=[{"type": "web_search"}],
        max_output_tokens=80,
    )

    assert response.model == "gpt-5-mini-2025-08-07"
    assert response.status == "completed"
    assert response.output_text
    assert response.usage.output_tokens == 80
    assert 0 < response.usage.output_tokens_details.reasoning_tokens < 80
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.tool_usage.web_search.num_requests == 1
    assert emulator.count("openai", "/v1/responses") == 1


def test_responses_stream_ends_with_completed_event_carrying_usage(
    emulator: ProviderEmulator,
) -> None:
    events = list(client(emulator).responses.create(model="gpt-4o", input="Acme?", stream=True))

    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert events[0].response.usage is None
    final = events[-1].response
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == final.output_text
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_responses_stream_helper_gets_the_final_response(emulator: ProviderEmulator) -> None:
    with client(emulator).responses.stream(model="gpt-4o", input="Acme?") as stream:
        final = stream.get_final_response()

    assert final.usage.output_tokens == 64


def test_embeddings_in_base64_and_float_with_usage(emulator: ProviderEmulator) -> None:
    openai_client = client(emulator)
    default = openai_client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    floats = openai_client.embeddings.create(
        model="text-embedding-3-large", input="acme", dimensions=256, encoding_format="float"
    )

    assert emulator.requests[0].body["encoding_format"] == "base64"
    assert [len(item.embedding) for item in default.data] == [1536, 1536]
    assert default.usage.prompt_tokens == default.usage.total_tokens == 2
    assert len(floats.data[0].embedding) == 256
    assert sum(value * value for value in floats.data[0].embedding) == pytest.approx(1.0, abs=1e-6)


async def test_the_async_client_streams_chat_and_responses(emulator: ProviderEmulator) -> None:
    async_client = openai.AsyncOpenAI(api_key=KEY, base_url=emulator.openai_base_url, max_retries=0)
    stream = await async_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("Hi"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    response = await async_client.responses.create(model="gpt-4o-mini", input="Hi")
    await async_client.close()

    assert chunks[-1].usage.prompt_tokens > 0
    assert response.usage.input_tokens > 0


def test_a_request_without_a_key_gets_openai_401(emulator: ProviderEmulator) -> None:
    reply = send(
        emulator.openai_base_url + "/chat/completions",
        {"model": "gpt-4o", "messages": ask("Hi")},
        key=None,
    )

    assert reply.status == 401
    assert reply.json()["error"]["code"] == "invalid_api_key"
    assert emulator.count("openai") == 1
