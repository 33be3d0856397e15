"""What the OpenAI instrumentation tests share: instrumenting, clients, hand-computed prices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import openai

from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.openai import OpenAIInstrumentor
from enrichment_logs.instrumentation.routes import ProviderRoutes, set_routes

KEY = "test-key"
MILLION = Decimal(1_000_000)
CENT_FRACTION = Decimal("1e-10")
"""The `cost` column's scale: DECIMAL(18, 10)."""

GPT_4O_MINI = (Decimal("0.15"), Decimal("0.075"), Decimal("0.60"))
"""providers.md §2.5: input, cached input and output USD per 1M tokens."""
LONG_SYSTEM_PROMPT = "You research companies for a sales team. " * 150
"""About 1,600 tokens: long enough for the emulator's prompt cache (1,024 tokens and up)."""


@contextmanager
def instrumented(routes: Mapping[str, str]) -> Iterator[None]:
    """The SDK instrumented, with the emulator's URLs routed to their providers."""
    set_routes(ProviderRoutes(routes))
    OpenAIInstrumentor().instrument()
    try:
        yield
    finally:
        OpenAIInstrumentor().uninstrument()
        set_routes(ProviderRoutes())


# Clients are typed `Any`: tests read fields the SDK's types do not declare (Perplexity's
# `usage.cost`) and stream results whose type the SDK's overloads cannot narrow.


def openai_client(emulator: ProviderEmulator, base_url: str | None = None, **options: Any) -> Any:
    """The SDK as a pipeline builds it, at the emulator's OpenAI (or `base_url`), no retries."""
    return openai.OpenAI(
        api_key=KEY, base_url=base_url or emulator.openai_base_url, max_retries=0, **options
    )


def async_openai_client(emulator: ProviderEmulator, **options: Any) -> Any:
    return openai.AsyncOpenAI(
        api_key=KEY, base_url=emulator.openai_base_url, max_retries=0, **options
    )


def ask(question: str, system: str = "Be brief.") -> Any:
    """Chat messages: a system prompt and a question."""
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def token_cost(
    prices: tuple[Decimal, Decimal, Decimal], *, input: int, cached: int = 0, output: int = 0
) -> Decimal:
    """Input beyond the cache at the input rate, cached input at its rate, output at its rate."""
    input_price, cached_price, output_price = prices
    amount = (input - cached) * input_price + cached * cached_price + output * output_price
    return (amount / MILLION).quantize(CENT_FRACTION)


def the_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The only row: each call must produce exactly one."""
    assert len(rows) == 1, [(row["provider"], row["operation"]) for row in rows]
    return rows[0]
