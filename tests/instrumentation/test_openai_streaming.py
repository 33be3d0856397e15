"""A pipeline that streams chat completions and responses reads every chunk as the SDK gives it,
and each stream is one row, priced from the usage its last chunk or event carries."""

from __future__ import annotations

import gc
import json
import logging
from typing import Any

import openai
import pytest

from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.openai.patch import STREAM_USAGE_VARIABLE
from tests.instrumentation.openai_helpers import (
    GPT_4O_MINI,
    ask,
    async_openai_client,
    openai_client,
    the_row,
    token_cost,
)

pytestmark = pytest.mark.usefixtures("openai_instrumented")


def _streamed_usage(emulator: ProviderEmulator) -> bool:
    options = emulator.requests[-1].body.get("stream_options") or {}
    return options.get("include_usage") is True


def test_a_chat_stream_without_usage_is_priced_and_the_caller_sees_only_choices(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    stream = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=20, stream=True
    )
    chunks = list(stream)

    assert isinstance(stream, openai.Stream)
    assert chunks
    assert all(chunk.choices and chunk.usage is None for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text
    assert _streamed_usage(emulator)
    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"], row["status"]) == (
        "openai",
        "chat.completions.create",
        "success",
    )
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert row["output_tokens"] == 20
    assert row["cost"] == token_cost(GPT_4O_MINI, input=row["input_tokens"], output=20)
    first_chunk = json.loads(row["attributes"])["gen_ai.response.time_to_first_chunk"]
    assert 0 < first_chunk < row["duration_ms"] / 1000


async def test_an_async_chat_stream_is_priced_and_shows_only_choices(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    stream = await async_openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Initech?"), max_tokens=25, stream=True
    )
    chunks = [chunk async for chunk in stream]

    assert isinstance(stream, openai.AsyncStream)
    assert all(chunk.choices for chunk in chunks)
    row = the_row(emulated_logs.rows())
    assert row["output_tokens"] == 25
    assert row["cost"] == token_cost(GPT_4O_MINI, input=row["input_tokens"], output=25)


def test_a_caller_who_asks_for_usage_gets_the_usage_chunk(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    with openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("Who is Acme?"),
        max_tokens=20,
        stream=True,
        stream_options={"include_usage": True},
    ) as stream:
        chunks = list(stream)

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == 20
    row = the_row(emulated_logs.rows())
    assert row["cost"] == token_cost(GPT_4O_MINI, input=last.usage.prompt_tokens, output=20)


def test_with_stream_usage_turned_off_the_cost_is_unknown_never_zero(
    emulator: ProviderEmulator, emulated_logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STREAM_USAGE_VARIABLE, "false")

    chunks = list(
        openai_client(emulator).chat.completions.create(
            model="gpt-4o-mini", messages=ask("Who is Acme?"), stream=True
        )
    )

    assert chunks
    assert not _streamed_usage(emulator)
    row = the_row(emulated_logs.rows())
    assert row["status"] == "success"
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert (row["input_tokens"], row["output_tokens"]) == (None, None)
    assert row["cost"] is None
    assert row["cost_source"] == "unknown"


def test_the_stream_helper_is_one_priced_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    with openai_client(emulator).chat.completions.stream(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=20
    ) as stream:
        completion = stream.get_final_completion()

    assert completion.choices[0].message.content
    row = the_row(emulated_logs.rows())
    assert row["output_tokens"] == 20
    assert row["cost"] == token_cost(GPT_4O_MINI, input=row["input_tokens"], output=20)


def test_a_stream_closed_early_is_one_row_ended_once(
    emulator: ProviderEmulator, emulated_logs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stream = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=200, stream=True
    )
    first = next(stream)
    stream.close()
    del stream
    gc.collect()

    assert first.choices
    row = the_row(emulated_logs.rows())
    assert row["status"] == "success"
    assert row["cost"] is None  # the usage chunk never came
    assert "already ended" not in caplog.text


def test_a_stream_the_caller_drops_still_ends_its_call(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    stream = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=200, stream=True
    )
    for _ in stream:
        break
    del stream
    gc.collect()

    assert the_row(emulated_logs.rows())["status"] == "success"


def test_a_responses_stream_is_priced_from_its_completed_event(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    with openai_client(emulator).responses.create(
        model="gpt-4o-mini", input="Who is Acme?", max_output_tokens=30, stream=True
    ) as stream:
        events = [event.type for event in stream]

    assert events[0] == "response.created"
    assert events[-1] == "response.completed"
    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"]) == ("openai", "responses.create")
    assert row["output_tokens"] == 30
    assert row["cost"] == token_cost(GPT_4O_MINI, input=row["input_tokens"], output=30)
    assert "gen_ai.response.time_to_first_chunk" in json.loads(row["attributes"])


async def test_an_async_responses_stream_helper_is_one_priced_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    async with async_openai_client(emulator).responses.stream(
        model="gpt-4o-mini", input="Who is Initech?", max_output_tokens=40
    ) as stream:
        response = await stream.get_final_response()

    assert response.output_text
    row = the_row(emulated_logs.rows())
    assert row["output_tokens"] == 40
    assert row["cost"] == token_cost(GPT_4O_MINI, input=response.usage.input_tokens, output=40)


def test_a_stream_that_breaks_off_is_an_error_row_and_the_sdks_error(
    emulator: ProviderEmulator, emulated_logs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.malform("openai", "truncated")
    caplog.set_level(logging.WARNING, "enrichment_logs")
    stream = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=200, stream=True
    )

    with pytest.raises(openai.APIError) as raised:
        list(stream)

    row = the_row(emulated_logs.rows())
    assert row["status"] == "error"
    assert row["error_type"].endswith(type(raised.value).__name__)
    assert "instrumentation failed" not in caplog.text
