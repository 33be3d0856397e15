"""Token prices from genai-prices, resolved once per model, context and price period.

genai-prices knows every OpenAI and Perplexity model with its price history, service tiers, batch
rates, cache reads and writes and long-context tiers; we do not keep a copy. Its `calc_price` costs
about 90 µs a call, most of it in a generic unit engine, and every exported span is priced, so:

- the resolved `ModelPrice` is cached per (provider, model, context, price period), where a price
  period is the stretch between two of the model's dated price changes (a model whose prices
  change by time of day is resolved every time);
- a price made only of the token units we report (input, cache read, cache write, output) and a
  request fee is computed here by genai-prices' rules: the input bucket excludes the cache
  buckets that have their own price, and a long-context tier applies to the whole request once
  total input exceeds its start. Any other price goes through genai-prices' own calculation. A
  property test holds the two paths to the same result for every OpenAI model.

Web searches are left to the caller (`TokenQuote.web_search_price`): the cost engine adds them as a
line of their own and lets the user override the rate. Reasoning tokens are part of output and
priced with it; they are only passed on so that a model with its own reasoning rate (Perplexity's
legacy sonar-deep-research) can split them out. genai-prices runs under the default decimal
context, whatever the caller's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from importlib import metadata

import genai_prices
from genai_prices import data_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

from enrichment_logs.pricing.usage import Usage

GENAI_PRICES_VERSION = metadata.version("genai-prices")

_MTOK = 1_000_000
_KCOUNT = 1_000
_FAST_PRICE_KEYS = frozenset(
    {
        "input_mtok",
        "cache_read_mtok",
        "cache_write_mtok",
        "output_mtok",
        "storage_searches_kcount",  # never reported, so always 0
        "requests_kcount",
    }
)

Price = Decimal | TieredPrices


@dataclass(frozen=True, slots=True)
class TokenQuote:
    """One model's resolved token prices for one context and price period."""

    model_id: str
    """genai-prices' id for the model (`gpt-4o` for `gpt-4o-2024-08-06`)."""
    model_price: ModelPrice
    context_applied: bool
    """False when a price context was asked for but the model has no prices of its own for it."""
    web_search_price: Decimal | None
    """USD per hosted web search call, if genai-prices has one for the model."""
    price_version: str
    fast_prices: Mapping[str, Price] | None
    """The prices by key when every one is computed here, else None (genai-prices computes)."""

    def cost(self, usage: Usage) -> Decimal:
        """USD for the tokens (plus a per-request price, if the model has one)."""
        if self.fast_prices is not None:
            return _fast_cost(self.fast_prices, usage)
        counts = {
            "input_tokens": usage.input_tokens,
            "cache_read_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "output_tokens": usage.output_tokens,
            "output_reasoning_tokens": usage.reasoning_tokens,
        }
        genai_usage = genai_prices.Usage(**{k: v for k, v in counts.items() if v})
        with localcontext(Context()):
            return self.model_price.calc_price(genai_usage)["total_price"]


class TokenPrices:
    """Looks models up in genai-prices and caches what it finds (and what it does not)."""

    def __init__(self) -> None:
        self._snapshot: data_snapshot.DataSnapshot | None = None
        self._models: dict[tuple[str, str], tuple[ModelInfo, tuple[date, ...] | None] | None] = {}
        self._quotes: dict[tuple[object, ...], TokenQuote] = {}

    def model_id(self, provider_id: str, model: str) -> str | None:
        """genai-prices' id for `model`, or None when it does not know the model."""
        found = self._model(provider_id, model)
        return None if found is None else found[0].id

    def quote(
        self,
        provider_id: str,
        model: str,
        at: datetime,
        context: Mapping[str, str] | None = None,
        *,
        without_request_fee: bool = False,
    ) -> TokenQuote | None:
        """Prices of `model` at `at`, or None when genai-prices does not know the model.

        `without_request_fee` drops a per-request price, for callers that charge it themselves.
        """
        found = self._model(provider_id, model)
        if found is None:
            return None
        info, price_changes = found
        context_key = tuple(sorted((context or {}).items()))
        period = None if price_changes is None else bisect_right(price_changes, _utc_date(at))
        key = (provider_id, model.lower(), context_key, period, without_request_fee)
        quote = self._quotes.get(key)
        if quote is None:
            quote = self._resolve(provider_id, model, info, at, context, without_request_fee)
            if period is not None:
                self._quotes[key] = quote
        return quote

    def _model(
        self, provider_id: str, model: str
    ) -> tuple[ModelInfo, tuple[date, ...] | None] | None:
        with localcontext(Context()):  # the first call imports genai-prices' data
            snapshot = data_snapshot.get_snapshot()
        if snapshot is not self._snapshot:  # prices were updated (UpdatePrices): start over
            self._snapshot = snapshot
            self._models.clear()
            self._quotes.clear()
        key = (provider_id, model.lower())
        try:
            return self._models[key]
        except KeyError:
            pass
        try:
            with localcontext(Context()):
                info = genai_prices.calc_price(
                    genai_prices.Usage(), model, provider_id=provider_id
                ).model
        except LookupError:
            found = None
        else:
            found = info, _price_changes(info)
        self._models[key] = found
        return found

    def _resolve(
        self,
        provider_id: str,
        model: str,
        info: ModelInfo,
        at: datetime,
        context: Mapping[str, str] | None,
        without_request_fee: bool,
    ) -> TokenQuote:
        def resolved(price_context: Mapping[str, str] | None) -> ModelPrice:
            with localcontext(Context()):
                return genai_prices.calc_price(
                    genai_prices.Usage(),
                    model,
                    provider_id=provider_id,
                    genai_request_timestamp=at,
                    price_context=price_context,
                ).model_price

        model_price = resolved(context)
        context_applied = not context or model_price != resolved(None)
        prices = _price_items(model_price)
        if without_request_fee:
            prices.pop("requests_kcount", None)
        web_search = prices.pop("web_searches_kcount", None)
        web_search_price = web_search / _KCOUNT if isinstance(web_search, Decimal) else None
        fast = prices.keys() <= _FAST_PRICE_KEYS and "input_mtok" in prices
        return TokenQuote(
            model_id=info.id,
            model_price=ModelPrice(**prices),
            context_applied=context_applied,
            web_search_price=web_search_price,
            price_version=self._price_version(),
            fast_prices=prices if fast else None,
        )

    def _price_version(self) -> str:
        if self._snapshot is not None and self._snapshot.from_auto_update:
            updated = f"{self._snapshot.timestamp:%Y-%m-%d %H:%M}"
            return f"genai-prices {GENAI_PRICES_VERSION} (data of {updated})"
        return f"genai-prices {GENAI_PRICES_VERSION}"


def _price_changes(info: ModelInfo) -> tuple[date, ...] | None:
    """The dates the model's prices change on, or None if they also change by time of day."""
    conditional = [] if isinstance(info.prices, ModelPrice) else info.prices
    constraints = [price.constraint for price in conditional]
    constraints += [variant.constraint for variant in info.price_variants or ()]
    if any(isinstance(constraint, TimeOfDateConstraint) for constraint in constraints):
        return None
    return tuple(sorted({c.start_date for c in constraints if isinstance(c, StartDateConstraint)}))


def _utc_date(at: datetime) -> date:
    """The date genai-prices compares start dates with: UTC, a naive time being UTC already."""
    return at.astimezone(UTC).date() if at.tzinfo is not None else at.date()


def _price_items(model_price: ModelPrice) -> dict[str, Price]:
    return {
        key: value
        for key, value in vars(model_price).items()
        if value is not None and not key.startswith("_")
    }


def _fast_cost(prices: Mapping[str, Price], usage: Usage) -> Decimal:
    input_tokens = usage.input_tokens or 0
    cached = (usage.cached_input_tokens or 0) if "cache_read_mtok" in prices else 0
    written = (usage.cache_write_tokens or 0) if "cache_write_mtok" in prices else 0
    uncached = input_tokens - cached - written
    if uncached < 0:
        raise ValueError(
            f"cached ({cached}) and cache-write ({written}) tokens exceed input ({input_tokens})"
        )
    counts: dict[str, tuple[int, int]] = {
        "input_mtok": (uncached, _MTOK),
        "cache_read_mtok": (cached, _MTOK),
        "cache_write_mtok": (written, _MTOK),
        "output_mtok": (usage.output_tokens or 0, _MTOK),
        "requests_kcount": (1, _KCOUNT),
    }
    total = Decimal(0)
    for key, price in prices.items():
        if key in counts:
            count, per = counts[key]
            total += _rate(price, input_tokens) * count / per
    return total


def _rate(price: Price, input_tokens: int) -> Decimal:
    """The rate for this request: past a tier's start, its rate applies to the whole request."""
    if isinstance(price, Decimal):
        return price
    for tier in reversed(price.tiers):
        if input_tokens > tier.start:
            return tier.price
    return price.base
