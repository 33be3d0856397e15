"""When OpenAI fails (rate limit, server error, timeout) the pipeline gets the SDK's own
exception, and the failed call is an `error` row; when our code fails, the pipeline never knows."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.openai import patch
from tests.instrumentation.openai_helpers import (
    ask,
    async_openai_client,
    openai_client,
    the_row,
)

pytestmark = pytest.mark.usefixtures("openai_instrumented")


@pytest.mark.parametrize(
    ("status", "error"), [(429, openai.RateLimitError), (500, openai.InternalServerError)]
)
def test_a_failed_call_is_an_error_row_and_the_sdks_exception(
    emulator: ProviderEmulator, emulated_logs: Any, status: int, error: type[Exception]
) -> None:
    emulator.script("openai", [status])

    with pytest.raises(error) as raised:
        openai_client(emulator).chat.completions.create(model="gpt-4o-mini", messages=ask("Hi"))

    assert type(raised.value) is error
    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"], row["status"]) == (
        "openai",
        "chat.completions.create",
        "error",
    )
    assert row["error_type"] == f"openai.{error.__qualname__}"
    assert row["cost"] is None


async def test_a_failed_async_call_is_an_error_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    emulator.script("openai", [429], retry_after=1)

    with pytest.raises(openai.RateLimitError):
        await async_openai_client(emulator).responses.create(model="gpt-4o-mini", input="Hi")

    row = the_row(emulated_logs.rows())
    assert (row["operation"], row["status"]) == ("responses.create", "error")


def test_a_timeout_is_an_error_row_and_the_sdks_timeout_error(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    emulator.hang("openai")

    with pytest.raises(openai.APITimeoutError):
        openai_client(emulator, timeout=0.5).embeddings.create(
            model="text-embedding-3-small", input="Acme"
        )

    row = the_row(emulated_logs.rows())
    assert (row["operation"], row["status"]) == ("embeddings.create", "error")
    assert row["error_type"].endswith("APITimeoutError")


def test_a_failure_reading_usage_leaves_the_call_alone(
    emulator: ProviderEmulator, emulated_logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("extraction bug")

    monkeypatch.setattr(patch, "usage_of", broken)

    completion = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Hi")
    )

    assert completion.choices[0].message.content
    row = the_row(emulated_logs.rows())
    assert (row["status"], row["cost"]) == ("success", None)


def test_a_failure_starting_the_call_sends_it_untouched(
    emulator: ProviderEmulator, emulated_logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("routing bug")

    monkeypatch.setattr(patch, "_provider_of", broken)

    chunks = list(
        openai_client(emulator).chat.completions.create(
            model="gpt-4o-mini", messages=ask("Hi"), stream=True
        )
    )

    assert chunks
    assert "stream_options" not in emulator.requests[-1].body
    assert emulated_logs.rows() == []
