"""Circuit breakers: a provider failing again and again is refused without a request until a
probe call after the cool-down succeeds; client errors never trip it."""

from __future__ import annotations

import logging
import time

import exa_py
import openai
import pytest
from openai.types.chat import ChatCompletionUserMessageParam

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from tests.conftest import finished_spans
from tests.metrics.conftest import Collection

KEY = "exa-test-key"
COOLDOWN = 0.4


def search(emulator: ProviderEmulator) -> object:
    return exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme news", num_results=5)


def test_a_provider_failing_at_rate_1_trips_its_breaker_then_recovers_after_the_cooldown(
    guarded, emulator, caplog, recorded
):
    caplog.set_level(logging.INFO, logger="enrichment_logs.guards")
    logs = guarded(breaker=f"failures=3,window=60s,cooldown={COOLDOWN}s")
    spans = finished_spans()
    emulator.fail("exa", 1.0)
    for _ in range(3):
        with pytest.raises(ValueError, match="500"):
            search(emulator)
    for _ in range(2):
        with pytest.raises(el.CircuitOpenError, match="exa search refused: the exa circuit"):
            search(emulator)
    assert emulator.count("exa", "/search") == 3  # the refused calls sent nothing
    assert state_of("exa") == 2  # open

    time.sleep(COOLDOWN)
    emulator.fail("exa", 0.0)
    search(emulator)  # the probe: it succeeds and closes the breaker
    search(emulator)
    assert state_of("exa") == 0  # closed

    rows = logs.rows()
    assert [row["status"] for row in rows] == ["error"] * 3 + ["rejected"] * 2 + ["success"] * 2
    assert emulator.count("exa", "/search") == 5
    assert [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.guards"] == [
        "circuit breaker exa opened (3 failures in a row within 60s): its calls are refused "
        f"for {COOLDOWN:g}s",
        "circuit breaker exa half-open (the cool-down ended: one probe call)",
        "circuit breaker exa closed (the probe call succeeded)",
    ]
    states = [
        event.attributes["enrichment.breaker.state"]
        for span in spans.get_finished_spans()
        for event in span.events
        if event.name == "enrichment.breaker" and event.attributes
    ]
    assert states == ["open", "half_open", "closed"]
    refused = [
        s
        for s in spans.get_finished_spans()
        if s.attributes and s.attributes.get("enrichment.status") == "rejected"
    ]
    assert {s.attributes["enrichment.breaker.state"] for s in refused} == {"open"}  # type: ignore[index]
    assert recorded.since_start().sums("enrichment_logs.breaker.transitions") == {
        frozenset({"provider": "exa", "operation": "", "state": state}.items()): 1
        for state in ("open", "half_open", "closed")
    }


def test_a_failed_probe_opens_the_breaker_again(guarded, emulator):
    logs = guarded(breaker=f"failures=2,cooldown={COOLDOWN}s")
    emulator.fail("exa", 1.0)
    for _ in range(2):
        with pytest.raises(ValueError, match="500"):
            search(emulator)
    time.sleep(COOLDOWN)
    with pytest.raises(ValueError, match="500"):
        search(emulator)  # the probe fails
    with pytest.raises(el.CircuitOpenError):
        search(emulator)

    assert [row["status"] for row in logs.rows()] == ["error"] * 3 + ["rejected"]
    assert emulator.count("exa", "/search") == 3


def test_client_errors_do_not_trip_the_breaker(guarded, emulator):
    logs = guarded(breaker="failures=2")
    emulator.script("exa", [400, 401, 404])
    for _ in range(3):
        with pytest.raises(ValueError, match="status code 40"):
            search(emulator)
    search(emulator)

    assert [row["status"] for row in logs.rows()] == ["error"] * 3 + ["success"]


def test_per_operation_breakers_leave_the_providers_other_operations_alone(guarded, emulator):
    logs = guarded(breaker="failures=1,per=operation")
    exa = exa_py.Exa(KEY, base_url=emulator.exa_base_url)
    emulator.script("exa", [503])
    with pytest.raises(ValueError, match="503"):
        exa.search("Acme news")
    with pytest.raises(el.CircuitOpenError, match="exa search circuit breaker"):
        exa.search("Acme news")
    exa.answer("Who founded Acme?")

    rows = logs.rows()
    assert [(row["operation"], row["status"]) for row in rows] == [
        ("search", "error"),
        ("search", "rejected"),
        ("answer", "success"),
    ]


def test_openai_sdk_calls_are_refused_by_an_open_breaker(guarded, emulator):
    logs = guarded(breaker="failures=2")
    client = openai.OpenAI(api_key="test", base_url=emulator.openai_base_url, max_retries=0)
    emulator.fail("openai", 1.0)
    messages: list[ChatCompletionUserMessageParam] = [{"role": "user", "content": "hi"}]
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    with pytest.raises(el.CircuitOpenError):
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert [row["status"] for row in logs.rows()] == ["error", "error", "rejected"]
    assert emulator.count("openai") == 2


def state_of(provider: str) -> float | None:
    """The breaker state gauge of a provider's breaker, now."""
    return Collection.collect().value(
        "enrichment_logs.breaker.state", provider=provider, operation=""
    )
