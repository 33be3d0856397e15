"""A pipeline that calls OpenAI's chat completions and embeddings, unchanged, finds each call in
DuckDB as one row with its tokens and a cost computed from the published prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.instrumentation.openai_helpers import (
    GPT_4O_MINI,
    LONG_SYSTEM_PROMPT,
    MILLION,
    ask,
    async_openai_client,
    openai_client,
    the_row,
    token_cost,
)

pytestmark = pytest.mark.usefixtures("openai_instrumented")


def test_a_chat_completion_is_one_row_priced_from_its_tokens(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    completion = openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=20
    )

    row = the_row(emulated_logs.rows())
    usage = completion.usage
    assert (row["provider"], row["operation"], row["status"]) == (
        "openai",
        "chat.completions.create",
        "success",
    )
    assert row["model"] == completion.model == "gpt-4o-mini-2024-07-18"
    assert (row["input_tokens"], row["output_tokens"]) == (usage.prompt_tokens, 20)
    assert row["cost"] == token_cost(GPT_4O_MINI, input=usage.prompt_tokens, output=20)
    assert row["cost_source"] == "price_table"


async def test_an_async_chat_completion_is_one_priced_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    completion = await async_openai_client(emulator).chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Initech?"), max_completion_tokens=30
    )

    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"]) == ("openai", "chat.completions.create")
    assert row["output_tokens"] == 30
    assert row["cost"] == token_cost(GPT_4O_MINI, input=completion.usage.prompt_tokens, output=30)


def test_a_cached_prompt_prices_its_cached_tokens_at_the_cached_rate(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    client = openai_client(emulator)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?", LONG_SYSTEM_PROMPT), max_tokens=10
    )
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=ask("Who is Initech?", LONG_SYSTEM_PROMPT), max_tokens=10
    )

    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= 1024
    row = emulated_logs.rows()[1]
    assert row["cached_input_tokens"] == cached
    assert row["cost"] == token_cost(
        GPT_4O_MINI, input=second.usage.prompt_tokens, cached=cached, output=10
    )


def test_a_parse_call_is_logged_like_create(emulator: ProviderEmulator, emulated_logs: Any) -> None:
    parsed = openai_client(emulator).chat.completions.parse(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=15
    )

    row = the_row(emulated_logs.rows())
    assert parsed.choices[0].message.content
    assert (row["provider"], row["operation"], row["status"]) == (
        "openai",
        "chat.completions.create",
        "success",
    )
    assert row["cost"] == token_cost(GPT_4O_MINI, input=parsed.usage.prompt_tokens, output=15)


class Company(pydantic.BaseModel):
    name: str


def test_a_parse_failing_in_the_sdk_is_an_error_row_and_the_callers_error(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    with pytest.raises(pydantic.ValidationError):
        # The emulator answers in prose, so the SDK's own parsing into `Company` fails.
        openai_client(emulator).chat.completions.parse(
            model="gpt-4o-mini", messages=ask("Acme as JSON"), response_format=Company
        )

    row = the_row(emulated_logs.rows())
    assert (row["operation"], row["status"]) == ("chat.completions.create", "error")
    assert row["error_type"] == "pydantic_core._pydantic_core.ValidationError"


def test_a_raw_response_keeps_working_and_is_priced(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    raw = openai_client(emulator).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=12
    )

    completion = raw.parse()
    assert raw.http_response.status_code == 200
    assert completion.choices[0].message.content
    row = the_row(emulated_logs.rows())
    assert row["output_tokens"] == 12
    assert row["cost"] == token_cost(GPT_4O_MINI, input=completion.usage.prompt_tokens, output=12)


def test_embeddings_are_priced_per_input_token(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    response = openai_client(emulator).embeddings.create(
        model="text-embedding-3-small", input=["Acme sells anvils", "Initech sells software"]
    )

    row = the_row(emulated_logs.rows())
    tokens = response.usage.prompt_tokens
    assert (row["provider"], row["operation"], row["model"]) == (
        "openai",
        "embeddings.create",
        "text-embedding-3-small",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (tokens, None)
    assert row["cost"] == tokens * Decimal("0.02") / MILLION  # providers.md §2.5


async def test_async_embeddings_are_one_row(emulator: ProviderEmulator, emulated_logs: Any) -> None:
    await async_openai_client(emulator).embeddings.create(
        model="text-embedding-3-large", input="Acme"
    )

    row = the_row(emulated_logs.rows())
    assert row["operation"] == "embeddings.create"
    assert row["cost"] == row["input_tokens"] * Decimal("0.13") / MILLION
