"""`record_usage`: how code inside a tool call reports what the call used."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from enrichment_logs.pricing.usage import Usage
from enrichment_logs.tracing.tool_call import current_call

_log = logging.getLogger("enrichment_logs")
_USAGE_FIELDS = (
    "model",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "credits",
)
_warned_outside_call = False


def usage_from_values(values: Mapping[str, Any]) -> Usage:
    """Usage from `record_usage`-style keywords: known fields, `cost`, and pricing extras."""
    known = {name: values.get(name) for name in _USAGE_FIELDS}
    extra = {key: value for key, value in values.items() if key not in (*_USAGE_FIELDS, "cost")}
    return Usage.parse(**known, reported_cost=values.get("cost"), extra=extra)


def record_usage(
    *,
    model: str | None = None,
    input_tokens: int | None = None,
    cached_input_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    output_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    credits: float | str | None = None,
    cost: float | str | None = None,
    **extra: str | int | float | bool,
) -> None:
    """Attach usage to the current tool call; the cost engine prices it when the call ends.

    Token counts follow OpenAI's convention: input includes cached input, output includes
    reasoning. `cost` is the cost the provider reported (it wins over the price tables);
    `extra` carries provider-specific pricing inputs such as `search_type="fast"`,
    `results=25` or `service_tier="flex"`. Several calls within one tool call add up. Outside a
    tool call this does nothing but warn once: logging never breaks the pipeline.
    """
    global _warned_outside_call
    call = current_call()
    if call is None:
        if not _warned_outside_call:
            _warned_outside_call = True
            _log.warning("record_usage() called outside a tool call; usage ignored")
        return
    call.record_usage(
        usage_from_values(
            {
                "model": model,
                "input_tokens": input_tokens,
                "cached_input_tokens": cached_input_tokens,
                "cache_write_tokens": cache_write_tokens,
                "output_tokens": output_tokens,
                "reasoning_tokens": reasoning_tokens,
                "credits": credits,
                "cost": cost,
                **extra,
            }
        )
    )
