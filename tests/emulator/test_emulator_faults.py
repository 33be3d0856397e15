"""Failures on demand: each SDK raises its own error, retries see `Retry-After`, hangs time out,
and malformed bodies reach the client as they would from a broken proxy."""

from __future__ import annotations

import time
from typing import Any

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

openai = pytest.importorskip("openai")
perplexity = pytest.importorskip("perplexity")
exa_py = pytest.importorskip("exa_py")
firecrawl = pytest.importorskip("firecrawl")

MESSAGES = [{"role": "user", "content": "Who is Acme?"}]


def openai_client(emulator: ProviderEmulator, **options):
    return openai.OpenAI(api_key=KEY, base_url=emulator.openai_base_url, **options)


def test_a_failure_rate_of_one_makes_every_sdk_raise_its_own_error() -> None:
    rates = dict.fromkeys(("openai", "perplexity", "exa", "firecrawl"), 1.0)
    with ProviderEmulator(fail=rates) as emulator:
        with pytest.raises(openai.InternalServerError):
            openai_client(emulator, max_retries=0).chat.completions.create(
                model="gpt-4o", messages=MESSAGES
            )
        with pytest.raises(perplexity.InternalServerError):
            perplexity.Perplexity(
                api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0
            ).search.create(query="Acme")
        with pytest.raises(ValueError, match="status code 500"):
            exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme")
        with pytest.raises(firecrawl.v2.utils.error_handler.FirecrawlError):
            firecrawl.Firecrawl(api_key=KEY, api_url=emulator.firecrawl_base_url).scrape(
                "https://acme.example"
            )

        assert [request.status for request in emulator.requests] == [500] * 4
        error = send(emulator.openai_base_url + "/embeddings", {"model": "m", "input": "x"})
        assert error.json()["error"]["type"] == "server_error"


def test_a_failure_rate_is_reproducible_from_the_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with ProviderEmulator(seed=seed, fail={"exa": 0.5}) as emulator:
            return [
                send(emulator.exa_base_url + "/answer", {"query": "q"}).status for _ in range(20)
            ]

    first = statuses(3)
    assert first == statuses(3)
    assert {200, 500} == set(first)


def test_failures_can_be_switched_on_and_off_while_running(emulator: ProviderEmulator) -> None:
    emulator.fail("perplexity", 1.0)
    failed = send(emulator.perplexity_base_url + "/search", {"query": "Acme"})
    emulator.fail("perplexity", 0.0)
    served = send(emulator.perplexity_base_url + "/search", {"query": "Acme"})

    assert (failed.status, served.status) == (500, 200)
    assert failed.json()["error"]["code"] == 500


def test_a_scripted_429_carries_retry_after_then_calls_succeed(emulator: ProviderEmulator) -> None:
    emulator.script("openai", [429], retry_after=1)
    client = openai_client(emulator, max_retries=0)

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert raised.value.response.headers["retry-after"] == "1"
    assert raised.value.code == "rate_limit_exceeded"
    assert completion.usage.total_tokens > 0


def test_the_sdk_retries_scripted_rate_limits(emulator: ProviderEmulator) -> None:
    emulator.script("openai", [429, 429, 200], retry_after=0.01)

    completion = openai_client(emulator, max_retries=2).chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )

    assert completion.choices[0].message.content
    assert [request.status for request in emulator.requests] == [429, 429, 200]
    assert emulator.requests[2].headers["x-stainless-retry-count"] == "2"


def test_a_scripted_exa_rate_limit_is_visible_over_http(emulator: ProviderEmulator) -> None:
    emulator.script("exa", [429, 429, 200], retry_after=1)

    replies = [send(emulator.exa_base_url + "/search", {"query": "Acme"}) for _ in range(4)]

    assert [reply.status for reply in replies] == [429, 429, 200, 200]
    assert replies[0].headers["retry-after"] == "1"
    assert replies[0].json()["tag"] == "RATE_LIMIT_EXCEEDED"
    assert "retry-after" not in replies[2].headers


def test_a_hang_outlasts_the_client_timeout(emulator: ProviderEmulator) -> None:
    emulator.hang("openai")
    started = time.monotonic()

    with pytest.raises(openai.APITimeoutError):
        openai_client(emulator, max_retries=0, timeout=0.3).chat.completions.create(
            model="gpt-4o", messages=MESSAGES
        )

    assert time.monotonic() - started < 1.5
    assert emulator.count("openai", "/v1/chat/completions") == 1


def test_a_scripted_hang_times_out_the_exa_client(emulator: ProviderEmulator) -> None:
    emulator.script("exa", ["hang"])

    with pytest.raises(exa_py.errors.ExaTimeoutError):
        exa_py.Exa(KEY, base_url=emulator.exa_base_url, timeout=0.3).search("Acme")
    served = exa_py.Exa(KEY, base_url=emulator.exa_base_url, timeout=0.3).search("Acme")

    assert served.cost_dollars.total > 0


def test_latency_is_added(emulator: ProviderEmulator) -> None:
    emulator.delay("firecrawl", 0.2)
    started = time.monotonic()

    send(emulator.firecrawl_base_url + "/v2/map", {"url": "https://acme.example"})

    assert time.monotonic() - started >= 0.2


def test_a_truncated_body_is_not_json(emulator: ProviderEmulator) -> None:
    emulator.malform("openai", "truncated")

    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        openai_client(emulator, max_retries=0).chat.completions.create(
            model="gpt-4o", messages=MESSAGES
        )


def test_a_truncated_stream_breaks_off_before_its_usage(emulator: ProviderEmulator) -> None:
    emulator.script("openai", ["truncated"])
    stream = openai_client(emulator, max_retries=0).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    received = []

    with pytest.raises(openai.APIConnectionError):
        received.extend(stream)

    assert received
    assert all(chunk.usage is None for chunk in received)


def test_an_html_page_instead_of_json(emulator: ProviderEmulator) -> None:
    emulator.script("exa", ["not_json"])

    with pytest.raises(ValueError, match="non-JSON body"):
        exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme")


def test_an_enormous_body_is_still_valid_json(emulator: ProviderEmulator) -> None:
    emulator.script("perplexity", ["huge"])

    reply = send(emulator.perplexity_base_url + "/search", {"query": "Acme"})

    assert len(reply.data) > 8 * 1024 * 1024
    assert len(reply.json()["results"]) == 10


def test_fault_settings_name_known_providers_only(emulator: ProviderEmulator) -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        emulator.fail("anthropic", 1.0)
    with pytest.raises(ValueError, match="unknown provider"):
        ProviderEmulator(latency={"opnai": 0.1})
    with pytest.raises(ValueError, match="failure rate"):
        emulator.fail("exa", 2.0)
    with pytest.raises(ValueError, match="hang_seconds"):
        ProviderEmulator(hang_seconds=60)
    with pytest.raises(ValueError, match="HTTP status"):
        emulator.script("exa", [42])
    typo: list[Any] = ["hnag"]
    with pytest.raises(ValueError, match="unknown script step"):
        emulator.script("exa", typo)
