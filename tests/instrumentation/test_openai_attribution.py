"""An OpenAI call made for a lead carries the lead; a call inside the user's own `@tool` is
counted once, on that tool's row; and `uninstrument()` gives the SDK back as it was."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import wrapt
from openai.resources.chat.completions import Completions

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.openai import OpenAIInstrumentor
from tests.instrumentation.openai_helpers import (
    GPT_4O_MINI,
    ask,
    instrumented,
    openai_client,
    the_row,
    token_cost,
)


@pytest.mark.usefixtures("openai_instrumented")
def test_a_call_in_an_enrichment_session_carries_the_lead_and_company(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    with el.enrichment_session(lead_id="lead-7", company_id="acme") as session:
        openai_client(emulator).chat.completions.create(
            model="gpt-4o-mini", messages=ask("Who is Acme?"), max_tokens=10
        )

    row = the_row(emulated_logs.rows())
    assert (row["lead_id"], row["company_id"]) == ("lead-7", "acme")
    assert row["session_id"] is not None
    assert session.calls == 1
    assert session.cost == row["cost"]


@pytest.mark.usefixtures("openai_instrumented")
def test_a_call_inside_the_users_tool_is_counted_once_on_the_tools_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    @el.tool("openai", "extract_profile")
    def extract_profile(company: str) -> str:
        completion = openai_client(emulator).chat.completions.create(
            model="gpt-4o-mini", messages=ask(f"Profile {company}"), max_tokens=30
        )
        return completion.choices[0].message.content or ""

    assert extract_profile("Acme")

    row = the_row(emulated_logs.rows())
    assert (row["provider"], row["operation"]) == ("openai", "extract_profile")
    assert row["output_tokens"] == 30
    assert row["cost"] == token_cost(GPT_4O_MINI, input=row["input_tokens"], output=30)


@pytest.mark.usefixtures("openai_instrumented")
def test_a_call_after_a_log_ended_in_another_thread_gets_its_own_row(
    emulator: ProviderEmulator, emulated_logs: Any
) -> None:
    log_id = el.start_enrichment_log(provider="exa", operation="search")
    worker = threading.Thread(target=el.complete_enrichment_log, args=(log_id,))
    worker.start()
    worker.join()

    # The ended log is still set in this thread's context: it must not swallow the next call.
    openai_client(emulator).chat.completions.create(model="gpt-4o-mini", messages=ask("Hi"))

    rows = emulated_logs.rows()
    assert sorted(row["provider"] for row in rows) == ["exa", "openai"]


def test_uninstrument_gives_back_the_sdk_and_logs_nothing(
    emulator: ProviderEmulator, emulated_logs: Any, emulator_routes: dict[str, str]
) -> None:
    with instrumented(emulator_routes):
        assert isinstance(vars(Completions)["create"], wrapt.FunctionWrapper)

    assert not isinstance(vars(Completions)["create"], wrapt.FunctionWrapper)
    openai_client(emulator).chat.completions.create(model="gpt-4o-mini", messages=ask("Hi"))
    assert emulated_logs.rows() == []


def test_the_instrumentor_names_the_sdk_versions_it_supports() -> None:
    assert OpenAIInstrumentor().instrumentation_dependencies() == ("openai >= 2.0",)
