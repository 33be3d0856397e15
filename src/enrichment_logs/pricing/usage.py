"""What a call consumed (`Usage`), what it cost (`Cost`), and how usage travels on a span.

Token counts follow OpenAI's convention, which is also the GenAI semantic convention: input
includes cached and cache-write input, output includes reasoning. The pricing code derives the
exclusive buckets from these once, so no caller can double count.

Usage is written onto the span on the calling thread (cheap attribute sets) and read back in the
export thread, where it is priced: pricing costs more than the span itself and must stay off the
pipeline's thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypeVar

from opentelemetry.util.types import AttributeValue

from enrichment_logs import semconv
from enrichment_logs.semconv import CostSource

ExtraValue = str | int | float | bool
N = TypeVar("N", int, Decimal)

_TOKEN_ATTRIBUTES: Mapping[str, str] = {
    "input_tokens": semconv.GEN_AI_USAGE_INPUT_TOKENS,
    "cached_input_tokens": semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    "cache_write_tokens": semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    "output_tokens": semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    "reasoning_tokens": semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
}


@dataclass(frozen=True, slots=True)
class Usage:
    """Everything that prices one call. Unknown is `None`, never 0."""

    model: str | None = None
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    credits: Decimal | None = None
    reported_cost: Decimal | None = None
    """Cost the provider reported in its response (Perplexity `usage.cost`, Exa `costDollars`)."""
    extra: Mapping[str, ExtraValue] = field(default_factory=dict)
    """Provider-specific pricing inputs: `search_type`, `results`, `pages`, `service_tier`, ..."""
    invalid: Mapping[str, str] = field(default_factory=dict)
    """Values that were present but unusable, with the reason; stored in the row's attributes."""

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def to_attributes(self) -> dict[str, AttributeValue]:
        """Span attributes for this usage; the reported cost is set by the call with its source."""
        attributes: dict[str, AttributeValue] = {}
        if self.model is not None:
            attributes[semconv.GEN_AI_RESPONSE_MODEL] = self.model
        for name, key in _TOKEN_ATTRIBUTES.items():
            value = getattr(self, name)
            if value is not None:
                attributes[key] = value
        if self.credits is not None:
            attributes[semconv.CREDITS] = str(self.credits)
        for name, value in self.extra.items():
            attributes[semconv.USAGE_EXTRA_PREFIX + name] = value
        return attributes

    @classmethod
    def parse(
        cls,
        *,
        model: object = None,
        input_tokens: object = None,
        cached_input_tokens: object = None,
        cache_write_tokens: object = None,
        output_tokens: object = None,
        reasoning_tokens: object = None,
        credits: object = None,
        reported_cost: object = None,
        extra: Mapping[str, object] | None = None,
    ) -> Usage:
        """Usage from values a caller passed; a bad value becomes None with its reason kept."""
        invalid: dict[str, str] = {}
        tokens = {
            "input_tokens": input_tokens,
            "cached_input_tokens": cached_input_tokens,
            "cache_write_tokens": cache_write_tokens,
            "output_tokens": output_tokens,
            "reasoning_tokens": reasoning_tokens,
        }
        kept_extra: dict[str, ExtraValue] = {}
        for key, value in (extra or {}).items():
            if isinstance(value, str | int | float | bool):
                kept_extra[str(key)] = value
            elif value is not None:
                invalid[str(key)] = f"not a number, string or boolean: {type(value).__name__}"
        if model is not None and not isinstance(model, str):
            invalid["model"] = f"not a string: {type(model).__name__}"
        return cls(
            model=model if isinstance(model, str) and model else None,
            credits=to_decimal(credits, "credits", invalid),
            reported_cost=to_decimal(reported_cost, "cost", invalid),
            extra=kept_extra,
            invalid=invalid,
            **{name: _count(value, name, invalid) for name, value in tokens.items()},
        )

    def merged(self, later: Usage) -> Usage:
        """This usage followed by `later` in the same call: counts add up, the later model wins."""
        return Usage(
            model=later.model or self.model,
            input_tokens=_add(self.input_tokens, later.input_tokens),
            cached_input_tokens=_add(self.cached_input_tokens, later.cached_input_tokens),
            cache_write_tokens=_add(self.cache_write_tokens, later.cache_write_tokens),
            output_tokens=_add(self.output_tokens, later.output_tokens),
            reasoning_tokens=_add(self.reasoning_tokens, later.reasoning_tokens),
            credits=_add(self.credits, later.credits),
            reported_cost=_add(self.reported_cost, later.reported_cost),
            extra={**self.extra, **later.extra},
            invalid={**self.invalid, **later.invalid},
        )

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, object]) -> Usage:
        """Read usage back from span attributes, tolerating anything a foreign span may carry."""
        invalid: dict[str, str] = {}
        tokens = {
            name: _count(attributes.get(key), key, invalid)
            for name, key in _TOKEN_ATTRIBUTES.items()
        }
        model = attributes.get(semconv.GEN_AI_RESPONSE_MODEL) or attributes.get(
            semconv.GEN_AI_REQUEST_MODEL
        )
        reported = None
        if attributes.get(semconv.COST_SOURCE) == "provider":
            reported = to_decimal(attributes.get(semconv.COST), semconv.COST, invalid)
        prefix = semconv.USAGE_EXTRA_PREFIX
        extra = {
            key[len(prefix) :]: value
            for key, value in attributes.items()
            if key.startswith(prefix) and isinstance(value, str | int | float | bool)
        }
        return cls(
            model=model if isinstance(model, str) and model else None,
            credits=to_decimal(attributes.get(semconv.CREDITS), semconv.CREDITS, invalid),
            reported_cost=reported,
            extra=extra,
            invalid=invalid,
            **tokens,
        )


@dataclass(frozen=True, slots=True)
class Cost:
    """The price of one call and where it came from. `amount is None` means unknown, not free."""

    amount: Decimal | None
    source: CostSource
    price_version: str | None = None
    currency: str = "USD"
    reason: str | None = None
    """Why the cost is unknown, or which price rule produced it; kept in the row's attributes."""


class Pricer(Protocol):
    """Turns usage into cost. Implementations never raise: a failure is an unknown cost."""

    def price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost: ...


def to_decimal(value: object, name: str, invalid: dict[str, str]) -> Decimal | None:
    """A finite, non-negative Decimal from a number or numeric string, else None and a reason."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        invalid[name] = f"not a number: {type(value).__name__}"
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        invalid[name] = f"not a number: {str(value)[:40]!r}"
        return None
    if not number.is_finite() or number < 0:
        invalid[name] = f"out of range: {number}"
        return None
    return number


def _add(first: N | None, second: N | None) -> N | None:
    if first is None:
        return second
    if second is None:
        return first
    return first + second


def _count(value: object, name: str, invalid: dict[str, str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        invalid[name] = f"not an integer: {str(value)[:40]!r}"
        return None
    if value < 0 or value > 2**62:
        invalid[name] = "negative" if value < 0 else "out of range: above 2**62"
        return None
    return value
