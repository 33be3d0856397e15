"""Our dated price file, `prices.toml`: the prices genai-prices does not have.

That is Exa per request, page, result and summary; Firecrawl credits per operation and dollars per
credit; Perplexity's tool fees, Search API and legacy Sonar request fees; OpenAI web search for a
model genai-prices gives no web-search price. Each price names its source and the date it was
read, and the file's `version` is stored with every row it prices, so a row can always be traced
to the figure that priced it.

A price is any table with `usd` (or `credits`): the amount for `per` units of `unit`. Its dotted
path is its name (`exa.search.auto`); the override file uses the same names. Amounts are strings
so they parse to exact Decimals, and the per-unit amount must divide exactly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from functools import cache
from importlib import resources
from typing import Any, Literal

EXACT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
"""Money arithmetic that never rounds: an operation that would round raises `Inexact` instead."""
_RATE_KEYS = frozenset({"usd", "credits", "per", "unit", "plan", "source", "retrieved"})


@dataclass(frozen=True, slots=True)
class Rate:
    """A published price: `amount` (USD or credits) for `per` units of `unit`."""

    name: str
    amount: Decimal
    per: int
    unit_amount: Decimal
    """The amount for one unit, exact (`7` per `1000` is `0.007`)."""
    unit: str
    currency: Literal["USD", "credits"]
    source: str
    retrieved: date
    plan: str | None = None


@dataclass(frozen=True, slots=True)
class PriceTable:
    version: str
    rates: Mapping[str, Rate]

    @property
    def price_version(self) -> str:
        return f"enrichment-logs prices {self.version}"


@cache
def default_price_table() -> PriceTable:
    """The packaged `prices.toml`, parsed once per process."""
    text = resources.files(__package__).joinpath("prices.toml").read_text(encoding="utf-8")
    return parse_price_table(tomllib.loads(text))


def parse_price_table(document: Mapping[str, Any]) -> PriceTable:
    """Build a table from a parsed price file; a malformed entry raises ValueError naming it."""
    version = document.get("version")
    if not isinstance(version, str):
        raise ValueError("price file: `version` must be a string such as '2026-11-25'")
    tables = {key: value for key, value in document.items() if key != "version"}
    rates = {name: _parse_rate(name, entry) for name, entry in iter_price_entries(tables)}
    return PriceTable(version, rates)


def iter_price_entries(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, entry) for every price below `table`.

    An entry is a table holding `usd` or `credits`, or a bare amount (the override file's short
    form); any other table is a level of the name.
    """
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not any(
            field in value and not isinstance(value[field], dict) for field in ("usd", "credits")
        ):
            yield from iter_price_entries(value, f"{name}.")
        else:
            yield name, value


def parse_amount(value: object, name: str) -> Decimal:
    """A finite, non-negative Decimal from a TOML string or integer (floats are not exact)."""
    if isinstance(value, float):
        raise ValueError(f'{name}: write the amount as a string, e.g. "{value}", to keep it exact')
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name}: expected an amount as a string, got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name}: {value!r} must be a finite amount of at least 0")
    return amount


def parse_per(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: `per` must be a positive integer, got {value!r}")
    return value


def exact_unit_amount(amount: Decimal, per: int, name: str) -> Decimal:
    """`amount / per`, refusing a quotient that would need rounding (`1 per 3`)."""
    try:
        return EXACT.divide(amount, per)
    except Inexact:
        raise ValueError(f"{name}: {amount} per {per} is not an exact amount per unit") from None


def _parse_rate(name: str, entry: object) -> Rate:
    if not isinstance(entry, dict):
        raise ValueError(f"price file: {name} must be a table with `usd` or `credits`")
    unknown = entry.keys() - _RATE_KEYS
    if unknown:
        raise ValueError(f"price file: {name} has unknown keys {sorted(unknown)}")
    currency: Literal["USD", "credits"] = "USD" if "usd" in entry else "credits"
    amount = parse_amount(entry.get("usd", entry.get("credits")), name)
    per = parse_per(entry.get("per"), name)
    unit_amount = exact_unit_amount(amount, per, name)
    unit, source, retrieved = entry.get("unit"), entry.get("source"), entry.get("retrieved")
    plan = entry.get("plan")
    if not isinstance(unit, str) or not isinstance(source, str) or not isinstance(retrieved, date):
        raise ValueError(f"price file: {name} needs a `unit`, a `source` and a `retrieved` date")
    if plan is not None and not isinstance(plan, str):
        raise ValueError(f"price file: {name}: `plan` must be a string")
    return Rate(name, amount, per, unit_amount, unit, currency, source, retrieved, plan)
