"""The emulator on loopback, and enrichment-logs configured to know it as the four providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor
from enrichment_logs.instrumentation.openai import OpenAIInstrumentor
from enrichment_logs.reference.clients import emulator_routes as reference_emulator_routes


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(seed=1) as running:
        yield running


@pytest.fixture
def emulator_routes(emulator: ProviderEmulator) -> dict[str, str]:
    """Each prefix stands for the provider's API root, as the real host's `/` does."""
    return reference_emulator_routes(emulator)


@pytest.fixture
def emulated_logs(make_logs: Any, emulator_routes: dict[str, str]) -> Any:
    """A configured enrichment-logs (see tests/conftest.py `Logs`) routing the emulator."""
    return make_logs(provider_routes=emulator_routes)


@pytest.fixture
def http_logs(emulated_logs: Any) -> Iterator[Any]:
    """`emulated_logs` with only the HTTP-level instrumentation on (configure() routes)."""
    HttpProvidersInstrumentor().instrument()
    yield emulated_logs
    HttpProvidersInstrumentor().uninstrument()


@pytest.fixture
def openai_instrumented(emulated_logs: Any) -> Iterator[Any]:
    """`emulated_logs` with only the OpenAI SDK instrumentation on (configure() routes)."""
    OpenAIInstrumentor().instrument()
    yield emulated_logs
    OpenAIInstrumentor().uninstrument()
