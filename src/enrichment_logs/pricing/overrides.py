"""User price overrides: a TOML file whose prices beat genai-prices and our price file.

For negotiated rates, a Firecrawl plan other than the default, or a model genai-prices does not
know yet. Pass it as `CostEngine(overrides_path=...)`; a row priced from it records the file's name
and content hash as its price version, so a row always says which prices made it.

Format::

    # Token prices for any provider and model, in USD per 1M tokens.
    [models.openai."gpt-4o"]
    input = "2.50"          # required
    output = "10.00"        # required ("0" for an embedding model)
    cached_input = "1.25"   # optional, defaults to input (no cache discount)
    cache_write = "3.125"   # optional, defaults to input

    [models.perplexity."openai/gpt-5.4"]   # a third-party model on Perplexity's Agent API
    input = "2.50"
    output = "15.00"

    # Any USD price of prices.toml, by its dotted name: USD for one unit as a string,
    # or a table with `usd` for `per` units, as written in prices.toml.
    [exa.search]
    auto = "0.005"                            # per request
    extra_result = { usd = "1", per = 1000 }  # per result above the first 10

    [perplexity.search]
    web = "0.004"                             # per Search API request

    [firecrawl]
    usd_per_credit = "0.00083"                # your plan's price / its credits

Rules:

- Model entries are keyed by the provider name the instrumentation uses and the model as the API
  reports it, case-insensitively. An entry also covers the snapshots genai-prices maps to that
  model (`gpt-4o` covers `gpt-4o-2024-08-06`). Quote model names that contain dots.
- A model's override prices apply to every service tier and to batch, and replace only its token
  prices: tool and request fees still come from prices.toml unless overridden by name.
- Amounts are strings or integers; floats are refused because they are not exact.
- Unknown names, missing or malformed values and unreadable files raise `PriceOverrideError`
  naming the file and the key when the engine is built, never while a call is priced.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from enrichment_logs.pricing.price_table import (
    PriceTable,
    exact_unit_amount,
    iter_price_entries,
    parse_amount,
    parse_per,
)
from enrichment_logs.pricing.usage import Usage

_MTOK = 1_000_000
_TOKEN_KEYS = ("input", "output", "cached_input", "cache_write")


class PriceOverrideError(ValueError):
    """The override file cannot be used; the message names the file and the bad key."""


@dataclass(frozen=True, slots=True)
class TokenRates:
    """A model's token prices in USD per 1M tokens."""

    input: Decimal
    output: Decimal
    cached_input: Decimal
    cache_write: Decimal

    def cost(self, usage: Usage) -> Decimal:
        """USD for the usage; input includes the cached and cache-write tokens, output reasoning."""
        input_tokens = usage.input_tokens or 0
        cached = usage.cached_input_tokens or 0
        written = usage.cache_write_tokens or 0
        uncached = input_tokens - cached - written
        if uncached < 0:
            raise ValueError(
                f"cached ({cached}) + cache-write ({written}) tokens exceed input ({input_tokens})"
            )
        return (
            uncached * self.input
            + cached * self.cached_input
            + written * self.cache_write
            + (usage.output_tokens or 0) * self.output
        ) / _MTOK


@dataclass(frozen=True, slots=True)
class Overrides:
    price_version: str
    """`override <file name> sha256:<first 12 hex digits>`."""
    models: Mapping[tuple[str, str], TokenRates]
    """By (provider, model), both lower case."""
    rates: Mapping[str, Decimal]
    """USD for one unit, by prices.toml name."""


NO_OVERRIDES = Overrides(price_version="no override file", models={}, rates={})


def load_overrides(path: Path, table: PriceTable) -> Overrides:
    """Read and check the override file against the price names of `table`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PriceOverrideError(f"{path}: cannot read the price override file: {error}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PriceOverrideError(f"{path}: not a valid TOML file: {error}") from None
    try:
        models = _parse_models(document.get("models", {}))
        rates = _parse_rates({k: v for k, v in document.items() if k != "models"}, table)
    except ValueError as error:
        raise PriceOverrideError(f"{path}: {error}") from None
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return Overrides(f"override {path.name} sha256:{digest}", models, rates)


def _parse_models(section: object) -> dict[tuple[str, str], TokenRates]:
    if not isinstance(section, dict):
        raise ValueError('models: expected tables such as [models.openai."gpt-4o"]')
    models: dict[tuple[str, str], TokenRates] = {}
    for provider, by_model in section.items():
        if not isinstance(by_model, dict):
            raise ValueError(
                f'models.{provider}: expected tables such as [models.{provider}."model"]'
            )
        for model, entry in by_model.items():
            name = f'models.{provider}."{model}"'
            models[provider.lower(), model.lower()] = _parse_token_rates(name, entry)
    return models


def _parse_token_rates(name: str, entry: object) -> TokenRates:
    if not isinstance(entry, dict):
        raise ValueError(
            f"{name}: expected a table of prices per 1M tokens ({', '.join(_TOKEN_KEYS)})"
        )
    for key, value in entry.items():
        if key not in _TOKEN_KEYS:
            hint = " (quote a model name that contains dots)" if isinstance(value, dict) else ""
            raise ValueError(f"{name}.{key}: unknown key, expected {', '.join(_TOKEN_KEYS)}{hint}")
    for key in ("input", "output"):
        if key not in entry:
            raise ValueError(f"{name}.{key}: missing (USD per 1M tokens)")
    prices = {key: parse_amount(value, f"{name}.{key}") for key, value in entry.items()}
    return TokenRates(
        input=prices["input"],
        output=prices["output"],
        cached_input=prices.get("cached_input", prices["input"]),
        cache_write=prices.get("cache_write", prices["input"]),
    )


def _parse_rates(tables: Mapping[str, Any], table: PriceTable) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for name, value in iter_price_entries(tables):
        known = table.rates.get(name)
        if known is None:
            close = difflib.get_close_matches(name, list(table.rates), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"{name}: not a price name of prices.toml{hint}")
        if known.currency != "USD":
            raise ValueError(f"{name}: a credit rule, not a price; set firecrawl.usd_per_credit")
        if isinstance(value, dict):
            unknown = value.keys() - {"usd", "per"}
            if unknown:
                raise ValueError(f"{name}.{min(unknown)}: unknown key, expected usd and per")
            amount = parse_amount(value.get("usd"), f"{name}.usd")
            rates[name] = exact_unit_amount(amount, parse_per(value.get("per", 1), name), name)
        else:
            rates[name] = parse_amount(value, name)
    return rates
