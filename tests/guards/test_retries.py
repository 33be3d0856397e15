"""Retries: transient failures (429, 5xx, timeouts, connection errors) are retried with backoff,
honouring Retry-After, within the bounds; a call that succeeds after retries is one success row
with its retry_count, its cost counted once; SDKs that retry by themselves are not retried twice."""

from __future__ import annotations

import time
from decimal import Decimal

import exa_py
import httpx
import openai
import perplexity
import pytest
from openai.types.chat import ChatCompletionUserMessageParam

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from tests.conftest import finished_spans

KEY = "exa-test-key"
SEARCH = Decimal("0.007")
FAST = "attempts=3,base=10ms"


def search(emulator: ProviderEmulator) -> object:
    return exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme news", num_results=5)


def test_a_429_with_retry_after_is_retried_after_that_delay_and_logged_once(guarded, emulator):
    logs = guarded(retry="attempts=3")
    spans = finished_spans()
    emulator.script("exa", [429], retry_after=1)
    started = time.monotonic()
    results = search(emulator)
    waited = time.monotonic() - started

    [row] = logs.rows()
    assert len(results.results) == 5  # type: ignore[attr-defined]
    assert waited >= 1.0
    assert emulator.count("exa", "/search") == 2
    assert (row["status"], row["retry_count"], row["cost"]) == ("success", 1, SEARCH)
    [span] = [s for s in spans.get_finished_spans() if s.name == "exa search"]
    attempts = [dict(e.attributes or {}) for e in span.events if e.name == "enrichment.attempt"]
    assert attempts == [
        {
            "enrichment.attempt.number": 1,
            "enrichment.attempt.outcome": "HTTP 429",
            "enrichment.attempt.wait_seconds": 1.0,
        },
        {"enrichment.attempt.number": 2, "enrichment.attempt.outcome": "success"},
    ]


async def test_async_calls_are_retried_with_backoff_until_they_succeed(guarded, emulator):
    logs = guarded(retry=FAST)
    emulator.script("exa", [503, 502])
    async with exa_py.AsyncExa(KEY, api_base=emulator.exa_base_url) as exa:
        await exa.search("Acme news", num_results=5)

    [row] = logs.rows()
    assert (row["status"], row["retry_count"], row["cost"]) == ("success", 2, SEARCH)
    assert emulator.count("exa", "/search") == 3


def test_when_the_attempts_run_out_the_caller_gets_the_last_failure(guarded, emulator):
    logs = guarded(retry=FAST)
    emulator.script("exa", [500, 500, 500])
    with pytest.raises(ValueError, match="500"):
        search(emulator)

    [row] = logs.rows()
    assert (row["status"], row["retry_count"], row["error_type"]) == ("error", 2, "500")
    assert emulator.count("exa", "/search") == 3


def test_no_retry_waits_past_the_total_time(guarded, emulator):
    logs = guarded(retry="attempts=5,total=1s")
    emulator.script("exa", [429], retry_after=5)
    started = time.monotonic()
    with pytest.raises(ValueError, match="429"):
        search(emulator)

    assert time.monotonic() - started < 1.0
    [row] = logs.rows()
    assert (row["status"], row["retry_count"]) == ("error", 0)


def test_a_tool_retries_its_transient_failures(make_logs, emulator):
    logs = make_logs()
    failures = [ConnectionError("reset by peer")]

    @el.tool("exa", "search", retry=3)
    def search_exa(query: str) -> dict[str, object]:
        if failures:
            raise failures.pop()
        reply = httpx.post(
            emulator.exa_base_url + "/search", json={"query": query}, headers={"x-api-key": KEY}
        )
        reply.raise_for_status()  # a 429 is an httpx.HTTPStatusError with its Retry-After
        found: dict[str, object] = reply.json()
        return found

    emulator.script("exa", [429], retry_after=0.2)
    search_exa("Acme news")

    @el.tool("exa", "search", retry=3)
    def broken(query: str) -> None:
        raise KeyError(query)  # not transient: not retried

    with pytest.raises(KeyError):
        broken("Acme")

    rows = logs.rows()
    assert [(row["status"], row["retry_count"]) for row in rows] == [("success", 2), ("error", 0)]
    assert emulator.count("exa", "/search") == 2


def test_openai_calls_are_retried_only_when_the_client_does_not_retry(guarded, emulator, caplog):
    logs = guarded(retry=FAST)
    messages: list[ChatCompletionUserMessageParam] = [{"role": "user", "content": "hi"}]
    ours = openai.OpenAI(api_key="test", base_url=emulator.openai_base_url, max_retries=0)
    emulator.script("openai", [500])
    ours.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert emulator.count("openai") == 2

    theirs = openai.OpenAI(api_key="test", base_url=emulator.openai_base_url, max_retries=1)
    emulator.script("openai", [500])
    theirs.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert emulator.count("openai") == 4  # the SDK's one retry, not ours on top

    rows = logs.rows()
    assert [(row["status"], row["retry_count"]) for row in rows] == [("success", 1), ("success", 0)]
    assert "max_retries=1" in caplog.text


def test_perplexity_sdk_requests_are_left_to_its_own_retries(guarded, emulator):
    logs = guarded(retry=FAST)
    client = perplexity.Perplexity(
        api_key="test", base_url=emulator.perplexity_base_url, max_retries=1
    )
    emulator.script("perplexity", [500])
    client.search.create(query="Acme news")

    assert emulator.count("perplexity") == 2
    assert [row["status"] for row in logs.rows()] == ["error", "success"]
