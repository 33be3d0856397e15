"""The cost engine: what one paid call cost in USD, and which rule says so.

`CostEngine().price(provider, operation, usage, at)` never raises. The first rule that applies
prices the call:

1. **provider**: the cost the provider reported in its response (`usage.reported_cost`:
   Perplexity `usage.cost.total_cost`, Exa `costDollars.total`).
2. **override**: a price from the user's override file (see `overrides.py`), or the Firecrawl
   rate given to the constructor.
3. **price_table**: token prices from genai-prices, everything else from our dated `prices.toml`.
4. **unknown**: `amount=None`, never 0, with the reason; an unknown model is also logged once per
   process as a warning on the `enrichment_logs.pricing` logger.

A cost mixing override and table prices has source `override`; its `price_version` lists every
price source used (`genai-prices 0.2.3; enrichment-logs prices 2026-11-25`), and its `reason`
spells out the arithmetic (`exa search type=auto: 1 request x $0.007`).

Providers and operations (the `operation` instrumentation passes), with the `usage.extra` keys
each one reads:

- `openai`, any operation (`chat.completions.create`, `responses.create`, `embeddings.create`,
  ...): tokens via genai-prices, including retired models. `service_tier`: `flex`, `priority` and
  `fast` select that tier's prices, `default`/`auto` or none the standard ones, any other
  (`scale`) the standard ones with a note. `processing="batch"` selects batch prices.
  `web_search_calls`: hosted web searches, at the model's genai-prices rate or `openai.web_search`.
- `perplexity`:
  `responses.create`, `agent` (Agent API), `chat.completions.create` (legacy Sonar),
  `embeddings.create`: tokens via genai-prices for `perplexity/sonar`, legacy `sonar*` models
  and embeddings; a third-party slug (`openai/gpt-5.4`) at that provider's price. Plus tool fees
  per invocation from `tool.search_web` (`search_type="fast"`: Fast Search rate),
  `tool.fetch_url`, `tool.search_people`, `tool.finance_search`, `tool.sandbox`. Legacy Sonar
  models add the request fee for `search_context_size` (`low`, the API default, when missing,
  and the reason says so).
  `search` (Search API): per request by `search_type` (`web` default, or `fast`).
- `exa`: `search` by `search_type` (`auto` default, `neural` = auto, `lite`, `deep`,
  `deep-reasoning`, legacy `fast` and `instant`) plus `results` above 10 and `summaries`;
  `find_similar` as an auto search; `contents` by `pages` plus `summaries`; `answer` per request.
- `firecrawl`, any operation: `usage.credits` x dollars per credit (constructor argument, else
  override file, else the plan in prices.toml). Without reported credits: `scrape` 1 credit per
  page (`pages`, default 1; 5 with `json_format`), `map` 1, `search` 2 per 10 `results` rounded
  up; any other operation (`crawl`, `batch_scrape`, ...) needs its reported credits.
- any other provider: only a reported cost or an override file model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path

from enrichment_logs import semconv
from enrichment_logs.pricing.llm import GENAI_PRICES_VERSION, TokenPrices, TokenQuote
from enrichment_logs.pricing.overrides import NO_OVERRIDES, TokenRates, load_overrides
from enrichment_logs.pricing.price_table import EXACT, default_price_table
from enrichment_logs.pricing.usage import Cost, ExtraValue, Usage
from enrichment_logs.semconv import CostSource

_log = logging.getLogger("enrichment_logs.pricing")

_OPENAI_TIERS = frozenset({"flex", "priority", "fast"})
_OPENAI_STANDARD_TIERS = frozenset({"default", "auto"})
_PERPLEXITY_TOOLS = ("search_web", "fetch_url", "search_people", "finance_search", "sandbox")
_EXA_SEARCH_ALIASES = {"neural": "auto"}
_EXA_INCLUDED_RESULTS = 10
_FIRECRAWL_RATE = "firecrawl.usd_per_credit"


@dataclass(frozen=True, slots=True)
class _Line:
    """One priced part of a call: tokens, a request fee, a tool's invocations."""

    amount: Decimal
    source: CostSource
    versions: tuple[str, ...]
    note: str


class _Unknown(Exception):
    """The call cannot be priced; the message is the reason. `warn_key` warns once per process."""

    def __init__(self, reason: str, warn_key: tuple[str, ...] | None = None) -> None:
        super().__init__(reason)
        self.warn_key = warn_key


class CostEngine:
    """Prices calls for the `Pricer` protocol. Build one per process: it caches lookups."""

    def __init__(
        self,
        *,
        overrides_path: Path | None = None,
        firecrawl_usd_per_credit: Decimal | None = None,
    ) -> None:
        """Raises `PriceOverrideError` for a bad override file, ValueError for a bad rate."""
        if firecrawl_usd_per_credit is not None and not (
            firecrawl_usd_per_credit.is_finite() and firecrawl_usd_per_credit >= 0
        ):
            raise ValueError(
                f"firecrawl_usd_per_credit must be >= 0, got {firecrawl_usd_per_credit}"
            )
        self._table = default_price_table()
        self._overrides = (
            load_overrides(overrides_path, self._table) if overrides_path else NO_OVERRIDES
        )
        self._configured = (
            {} if firecrawl_usd_per_credit is None else {_FIRECRAWL_RATE: firecrawl_usd_per_credit}
        )
        self._tokens = TokenPrices()

    def price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost:
        """The cost of one call made at `at`; never raises (a failure is an unknown cost)."""
        try:
            with localcontext(EXACT):  # a sum that would round becomes an unknown cost
                return self._price(provider, operation, usage, at)
        except _Unknown as unknown:
            if unknown.warn_key is not None:
                _warn_once(
                    unknown.warn_key, "%s; its calls are logged with an unknown cost", unknown
                )
            return Cost(None, "unknown", reason=str(unknown))
        except Exception as error:  # a pricing bug must never reach the pipeline
            _warn_once(
                ("error", provider, operation, type(error).__name__), "pricing failed: %r", error
            )
            return Cost(None, "unknown", reason=f"pricing failed: {type(error).__name__}: {error}")

    def _price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost:
        if usage.reported_cost is not None:
            return Cost(
                usage.reported_cost,
                "provider",
                price_version=f"{provider} response",
                reason="reported by the provider",
            )
        unusable = {k: v for k, v in usage.invalid.items() if k != semconv.COST}
        if unusable:
            details = "; ".join(f"{key}: {why}" for key, why in unusable.items())
            raise _Unknown(f"usage has unusable values ({details})")
        label = f"{provider} {operation}"
        if provider == "openai":
            lines = self._openai(usage, at)
        elif provider == "perplexity":
            lines = self._perplexity(operation, usage, at)
        elif provider == "exa":
            label, lines = self._exa(operation, usage)
        elif provider == "firecrawl":
            lines = self._firecrawl(operation, usage)
        else:
            lines = self._other(provider, usage, at)
        return _combine(label, lines)

    # --- providers ----------------------------------------------------------------------------

    def _openai(self, usage: Usage, at: datetime) -> list[_Line]:
        context: dict[str, str] = {}
        notes: list[str] = []
        tier = _text(usage.extra, "service_tier")
        if tier in _OPENAI_TIERS:
            context["service_tier"] = tier
        elif tier is not None and tier not in _OPENAI_STANDARD_TIERS:
            notes.append(f"service_tier={tier} has no published rate: standard rates")
        if _text(usage.extra, "processing") == "batch":
            context["processing"] = "batch"
        model = _model(usage, "openai")
        web_searches = _count(usage.extra, "web_search_calls") or 0
        return self._tokens_lines("openai", model, usage, at, context, notes, web_searches)

    def _perplexity(self, operation: str, usage: Usage, at: datetime) -> list[_Line]:
        search_type = _text(usage.extra, "search_type")
        if operation == "search":
            return [self._rate_line(f"perplexity.search.{search_type or 'web'}", 1, "request")]
        unknown_tools = sorted(
            key
            for key in usage.extra
            if key.startswith("tool.") and key[5:] not in _PERPLEXITY_TOOLS
        )
        if unknown_tools:  # a new tool: better no cost than one that leaves its fees out
            tool = unknown_tools[0]
            raise _Unknown(f"perplexity {tool} has no known price", ("perplexity", tool))
        model = _model(usage, "perplexity")
        lines = self._tokens_lines("perplexity", model, usage, at)
        fee = f"perplexity.request_fee.{model.lower()}"
        if f"{fee}.low" in self._table.rates:  # a legacy Sonar model
            size = _text(usage.extra, "search_context_size")
            said = f"{size} search context" if size else "search context not reported: low"
            lines.append(self._rate_line(f"{fee}.{size or 'low'}", 1, f"request ({said})"))
        for tool in _PERPLEXITY_TOOLS:
            calls = _count(usage.extra, f"tool.{tool}")
            if calls:
                fast = "_fast" if tool == "search_web" and search_type == "fast" else ""
                lines.append(
                    self._rate_line(f"perplexity.tool.{tool}{fast}", calls, f"{tool} call")
                )
        return lines

    def _exa(self, operation: str, usage: Usage) -> tuple[str, list[_Line]]:
        extra = usage.extra
        if operation in ("search", "find_similar"):
            reported = (_text(extra, "search_type") if operation == "search" else None) or "auto"
            search_type = _EXA_SEARCH_ALIASES.get(reported, reported)
            label = f"exa {operation} type={reported}"
            if search_type != reported:
                label += f" (priced as {search_type})"
            elif search_type == "instant":
                label += " (legacy, price unpublished: assumed as auto)"
            lines = [self._rate_line(f"exa.search.{search_type}", 1, "request")]
            extra_results = (_count(extra, "results") or 0) - _EXA_INCLUDED_RESULTS
            if extra_results > 0:
                lines.append(
                    self._rate_line("exa.search.extra_result", extra_results, "extra result")
                )
        elif operation == "contents":
            pages = _count(extra, "pages")
            if pages is None:
                raise _Unknown("exa contents: the page count was not reported")
            label, lines = "exa contents", [self._rate_line("exa.contents.page", pages, "page")]
        elif operation == "answer":
            label, lines = "exa answer", [self._rate_line("exa.answer", 1, "request")]
        else:
            raise _Unknown(
                f"exa {operation}: no price rule and no reported cost", ("exa", operation)
            )
        summaries = _count(extra, "summaries")
        if summaries:
            lines.append(self._rate_line("exa.summary", summaries, "summary", "summaries"))
        return label, lines

    def _firecrawl(self, operation: str, usage: Usage) -> list[_Line]:
        versions: tuple[str, ...] = ()
        if usage.credits is not None:
            credits, how = usage.credits, "reported"
        else:
            credits, how = self._firecrawl_credits(operation, usage.extra)
            versions = (self._table.price_version,)
        line = self._rate_line(_FIRECRAWL_RATE, credits, "credit")
        return [_Line(line.amount, line.source, versions + line.versions, f"{how}: {line.note}")]

    def _firecrawl_credits(
        self, operation: str, extra: Mapping[str, ExtraValue]
    ) -> tuple[Decimal, str]:
        rules = self._table.rates
        if operation == "scrape":
            pages = _count(extra, "pages")
            pages = 1 if pages is None else pages
            per_page = rules["firecrawl.credits.scrape_page"].amount
            how = f"{pages} page(s)"
            if _flag(extra, "json_format"):
                per_page += rules["firecrawl.credits.json_format"].amount
                how += " with JSON format"
            return pages * per_page, how
        if operation == "map":
            return rules["firecrawl.credits.map"].amount, "1 map call"
        if operation == "search":
            results = _count(extra, "results")
            if results is None:
                raise _Unknown("firecrawl search: neither credits nor the result count reported")
            rule = rules["firecrawl.credits.search"]
            blocks = -(-results // rule.per)  # rounded up, as Firecrawl bills
            return blocks * rule.amount, f"{results} results"
        raise _Unknown(
            f"firecrawl {operation}: credits not reported (jobs are billed as pages complete: "
            "price the final status)",
            ("firecrawl", operation),
        )

    def _other(self, provider: str, usage: Usage, at: datetime) -> list[_Line]:
        if not usage.model or self._model_override(provider, usage.model) is None:
            raise _Unknown(
                f"no price for {provider}: report its cost or add an override", (provider,)
            )
        return self._tokens_lines(provider, usage.model, usage, at)

    # --- building blocks ----------------------------------------------------------------------

    def _tokens_lines(
        self,
        provider: str,
        model: str,
        usage: Usage,
        at: datetime,
        context: Mapping[str, str] | None = None,
        notes: Sequence[str] = (),
        web_searches: int = 0,
    ) -> list[_Line]:
        """Token cost from the override file, else genai-prices; plus OpenAI web searches."""
        if usage.input_tokens is None and usage.output_tokens is None:
            raise _Unknown(f"{provider} {model}: no token counts reported")
        genai_provider, genai_model = self._genai_model(provider, model)
        rates = self._model_override(
            provider, model, self._tokens.model_id(genai_provider, genai_model)
        )
        quote = None
        try:
            if rates is not None:
                note = ", ".join([f"{model} tokens (override)", *notes])
                line = _Line(rates.cost(usage), "override", (self._overrides.price_version,), note)
            else:
                quote = self._tokens.quote(
                    genai_provider,
                    genai_model,
                    at,
                    context,
                    without_request_fee=provider == "perplexity",  # charged from our table
                )
                if quote is None:
                    raise _Unknown(
                        f"no price for {provider} model {model!r} in genai-prices "
                        f"{GENAI_PRICES_VERSION} or the override file",
                        (provider, model),
                    )
                line = _genai_line(model, quote, usage, context or {}, notes)
        except ValueError as error:  # counts that do not add up, such as cached > input
            raise _Unknown(f"{provider} {model}: {error}") from None
        if not web_searches:
            return [line]
        return [line, self._web_search_line(web_searches, quote)]

    def _web_search_line(self, searches: int, quote: TokenQuote | None) -> _Line:
        """OpenAI web searches: at the model's genai-prices rate unless the user set one."""
        if quote is None or quote.web_search_price is None or self._is_set("openai.web_search"):
            return self._rate_line("openai.web_search", searches, "web search", "web searches")
        price = quote.web_search_price
        note = f"{searches} web search{'es' if searches != 1 else ''} x ${price}"
        return _Line(searches * price, "price_table", (quote.price_version,), note)

    def _genai_model(self, provider: str, model: str) -> tuple[str, str]:
        """Where genai-prices keeps the model: Perplexity bills third-party models at list price."""
        if provider == "perplexity" and "/" in model and not self._tokens.model_id(provider, model):
            vendor, _, name = model.partition("/")
            return vendor, name
        return provider, model

    def _model_override(
        self, provider: str, model: str, canonical: str | None = None
    ) -> TokenRates | None:
        """The override entry for the model, by its reported name or genai-prices' id for it."""
        models = self._overrides.models
        found = models.get((provider, model.lower()))
        if found is None and canonical is not None:
            found = models.get((provider, canonical))
        return found

    def _is_set(self, name: str) -> bool:
        """Whether the user set this price (constructor or override file)."""
        return name in self._configured or name in self._overrides.rates

    def _rate_line(
        self, name: str, count: int | Decimal, noun: str, plural: str | None = None
    ) -> _Line:
        """`count` units at the price `name`: configured, else overridden, else prices.toml's."""
        counted = f"{count} {noun if count == 1 else plural or noun + 's'}"
        if name in self._configured:
            unit = self._configured[name]
            return _Line(unit * count, "override", (f"configured {name}",), f"{counted} x ${unit}")
        if name in self._overrides.rates:
            unit = self._overrides.rates[name]
            versions = (self._overrides.price_version,)
            return _Line(unit * count, "override", versions, f"{counted} x ${unit} (override)")
        rate = self._table.rates.get(name)
        if rate is None:
            raise _Unknown(f"no price {name!r} in prices.toml", (name,))
        plan = f" ({rate.plan})" if rate.plan else ""
        versions = (self._table.price_version,)
        return _Line(
            rate.unit_amount * count,
            "price_table",
            versions,
            f"{counted} x ${rate.unit_amount}{plan}",
        )


def _genai_line(
    model: str,
    quote: TokenQuote,
    usage: Usage,
    context: Mapping[str, str],
    notes: Sequence[str],
) -> _Line:
    named = model if quote.model_id == model.lower() else f"{model} (as {quote.model_id})"
    parts = [f"{named} tokens", *notes, *(f"{key}={value}" for key, value in context.items())]
    if context and not quote.context_applied:
        parts.append("no own prices for that: standard rates")
    return _Line(quote.cost(usage), "price_table", (quote.price_version,), ", ".join(parts))


def _combine(label: str, lines: Sequence[_Line]) -> Cost:
    amount = sum((line.amount for line in lines), Decimal(0))
    source: CostSource = (
        "override" if any(line.source == "override" for line in lines) else "price_table"
    )
    versions = dict.fromkeys(version for line in lines for version in line.versions)
    reason = f"{label}: {' + '.join(line.note for line in lines)}"
    return Cost(amount, source, price_version="; ".join(versions), reason=reason)


# --- reading usage ------------------------------------------------------------------------------


def _model(usage: Usage, provider: str) -> str:
    if not usage.model:
        raise _Unknown(f"{provider}: no model reported", (provider, "<no model>"))
    return usage.model


def _count(extra: Mapping[str, ExtraValue], key: str) -> int | None:
    value = extra.get(key)
    if value is None:
        return None
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.isdigit()
    ):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Unknown(f"usage.extra[{key!r}] is not a count: {value!r}")
    return value


def _text(extra: Mapping[str, ExtraValue], key: str) -> str | None:
    value = extra.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Unknown(f"usage.extra[{key!r}] is not a string: {value!r}")
    return value.lower()


def _flag(extra: Mapping[str, ExtraValue], key: str) -> bool:
    value = extra.get(key)
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --- warnings -----------------------------------------------------------------------------------

_warned: set[tuple[str, ...]] = set()
_warned_lock = threading.Lock()


def _warn_once(key: tuple[str, ...], message: str, *args: object) -> None:
    """Log a warning the first time `key` is seen in this process: a signal, not a flood."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    _log.warning(message, *args)
