"""The guard settings' text forms, parsed: budgets, warnings, breakers, retries and the cache.

Each setting is one environment variable holding comma-separated `key=value` items, the same form
a `configure()` keyword takes as a string or a mapping. A bad item raises `ValueError` with the
item and what was expected; `config.py` turns it into a `ConfigurationError` naming the variable.

- budgets: `daily=50,monthly=1000,exa.daily=5,lead.daily=0.50,openai.estimate=0.02`
- budget warnings: `80%,100%` (or `0.8,1`)
- breaker: `on`, `off`, or `failures=5,window=60s,cooldown=30s,per=operation,exa.failures=3`
- retry: `on`, `off`, or `attempts=4,total=60s,max_wait=30s,base=0.5s,openai.attempts=1`
- cache: `firecrawl.scrape=1h,exa.search=10m` (or `exa=1h`: every Exa operation)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Generic, Literal, TypeVar

Period = Literal["day", "month"]
Scope = Literal["global", "provider", "lead"]
T = TypeVar("T")

_PERIODS: Mapping[str, Period] = {"daily": "day", "monthly": "month"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ON = frozenset({"on", "true", "1", "yes"})
_OFF = frozenset({"off", "false", "0", "no", "none", ""})


def parse_duration(text: object) -> float:
    """Seconds from `90`, `1.5`, `500ms`, `30s`, `10m`, `1h` or `2d`."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if match is None:
            raise ValueError(f"{text!r} is not a duration (e.g. 30s, 10m, 1h, 2d)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{text!r}: a duration must be more than 0")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest form `parse_duration` reads back: `1h`, `90s`, `10m`."""
    for unit in ("d", "h", "m", "s"):
        count = seconds / _UNIT_SECONDS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"


def _amount(text: object, key: str) -> Decimal:
    raw = str(text).strip().removeprefix("$")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{key}={text}: expected an amount in USD, e.g. 5 or 0.50") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{key}={text}: expected an amount of at least 0")
    return number


def _items(value: object) -> list[tuple[str, str]]:
    """`a=1,b=2` or a mapping, as (key, value) text pairs; keys are lower-cased."""
    if isinstance(value, Mapping):
        pairs = [(str(key), str(item)) for key, item in value.items()]
    else:
        pairs = []
        for part in filter(None, (piece.strip() for piece in str(value).split(","))):
            key, separator, item = part.partition("=")
            if not separator or not key.strip() or not item.strip():
                raise ValueError(f"{part!r}: expected KEY=VALUE")
            pairs.append((key, item))
    return [(key.strip(), item.strip()) for key, item in pairs]


# --- budgets --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """One limit: the spend of a period (UTC day or month) in a scope may not pass `amount`."""

    period: Period
    scope: Scope
    provider: str = ""
    """The provider of a `provider` limit; empty otherwise."""
    amount: Decimal = Decimal(0)

    @property
    def label(self) -> str:
        """How messages name it: `daily`, `exa monthly`, `per-lead daily`."""
        period = "daily" if self.period == "day" else "monthly"
        if self.scope == "provider":
            return f"{self.provider} {period}"
        return f"per-lead {period}" if self.scope == "lead" else period


@dataclass(frozen=True)
class Budgets:
    """The `budgets` setting: hard limits, and the estimates reserved for calls before they run."""

    limits: tuple[BudgetLimit, ...] = ()
    estimates: Mapping[str, Decimal] = field(default_factory=dict)
    """Configured estimates by `provider.operation`, `provider` or `` (every call)."""

    def __bool__(self) -> bool:
        return bool(self.limits)


def parse_budgets(value: object) -> Budgets:
    limits: dict[tuple[Period, Scope, str], BudgetLimit] = {}
    estimates: dict[str, Decimal] = {}
    for key, text in _items(value):
        scope_key, _, kind = key.rpartition(".")
        kind = kind.lower()
        if kind == "estimate":
            estimates[scope_key] = _amount(text, key)
            continue
        if key.lower() == "lead":
            raise ValueError(
                f"{key}={text}: say which period: lead.daily={text} or lead.monthly={text}"
            )
        if kind not in _PERIODS:
            raise ValueError(
                f"{key}={text}: expected daily, monthly, lead.daily, lead.monthly, "
                "PROVIDER.daily, PROVIDER.monthly or [PROVIDER[.OPERATION].]estimate"
            )
        if "." in scope_key:
            raise ValueError(f"{key}={text}: limits are global, per provider or per lead")
        scope: Scope = "global" if not scope_key else "lead" if scope_key == "lead" else "provider"
        provider = scope_key if scope == "provider" else ""
        period = _PERIODS[kind]
        limits[(period, scope, provider)] = BudgetLimit(period, scope, provider, _amount(text, key))
    return Budgets(tuple(limits.values()), estimates)


def parse_warnings(value: object) -> tuple[Decimal, ...]:
    """Shares of a limit at which to warn, from `80%,100%` or `0.8,1`."""
    shares: set[Decimal] = set()
    texts = value if isinstance(value, list | tuple) else str(value).split(",")
    for text in (str(part).strip() for part in texts):
        if not text:
            continue
        try:
            share = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r}: expected a share of the limit, e.g. 80% or 0.8") from None
        if not share.is_finite() or share <= 0:
            raise ValueError(f"{text!r}: a warning threshold must be more than 0")
        shares.add(share.normalize())
    if not shares:
        raise ValueError("expected at least one threshold, e.g. 80%,100%")
    return tuple(sorted(shares))


# --- breakers and retries: a default rule, and overrides per provider -----------------------
@dataclass(frozen=True)
class ProviderRules(Generic[T]):
    """A rule for every provider, with some providers' fields overridden."""

    default: T
    overrides: Mapping[str, T] = field(default_factory=dict)

    def for_provider(self, provider: str) -> T:
        return self.overrides.get(provider, self.default)


@dataclass(frozen=True, slots=True)
class BreakerRule:
    failures: int = 5
    """Consecutive failures (429, 5xx, timeouts, connection errors) that open the breaker..."""
    window_seconds: float = 60.0
    """...when they all happened within this many seconds."""
    cooldown_seconds: float = 30.0
    """How long an open breaker refuses calls before it lets one probe call through."""


@dataclass(frozen=True)
class BreakerSettings(ProviderRules[BreakerRule]):
    per_operation: bool = False
    """One breaker per provider and operation instead of one per provider."""


@dataclass(frozen=True, slots=True)
class RetryRule:
    attempts: int = 3
    """Attempts in all, the first included: 1 means no retry."""
    total_seconds: float = 60.0
    """No retry starts when its wait would end later than this after the first attempt."""
    max_wait_seconds: float = 30.0
    """Cap of the exponential backoff (a provider's `Retry-After` is honoured as given)."""
    base_seconds: float = 0.5
    """The first backoff's cap; each retry doubles it, and the wait is random below it."""


def _count(text: str, key: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key}={text}: expected a whole number of at least 1")
    return int(text)


def _seconds(text: str, key: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ValueError(f"{key}={text}: {error}") from None


_BREAKER_FIELDS: Mapping[str, tuple[str, Callable[[str, str], Any]]] = {
    "failures": ("failures", _count),
    "window": ("window_seconds", _seconds),
    "cooldown": ("cooldown_seconds", _seconds),
}
_RETRY_FIELDS: Mapping[str, tuple[str, Callable[[str, str], Any]]] = {
    "attempts": ("attempts", _count),
    "total": ("total_seconds", _seconds),
    "max_wait": ("max_wait_seconds", _seconds),
    "base": ("base_seconds", _seconds),
}


def _switch(value: object) -> bool | None:
    """True for `on`, False for `off`, None for a list of items."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return None
    text = str(value).strip().lower()
    return True if text in _ON else False if text in _OFF else None


def _rules(
    items: list[tuple[str, str]],
    fields: Mapping[str, tuple[str, Callable[[str, str], Any]]],
    default: T,
) -> ProviderRules[T]:
    """Items `field=value` for every provider and `provider.field=value` for one."""
    common: dict[str, Any] = {}
    per_provider: dict[str, dict[str, Any]] = {}
    for key, text in items:
        provider, _, name = key.rpartition(".")
        name = name.lower()
        if name not in fields:
            raise ValueError(
                f"{key}={text}: expected [PROVIDER.]FIELD=VALUE with FIELD one of "
                + ", ".join(fields)
            )
        attribute, parse = fields[name]
        (per_provider.setdefault(provider, {}) if provider else common)[attribute] = parse(
            text, key
        )
    base = dataclasses.replace(default, **common)  # type: ignore[type-var]
    overrides = {
        provider: dataclasses.replace(base, **values)  # type: ignore[type-var]
        for provider, values in per_provider.items()
    }
    return ProviderRules(base, overrides)


def parse_breaker(value: object) -> BreakerSettings | None:
    switch = _switch(value)
    if switch is not None:
        return BreakerSettings(BreakerRule()) if switch else None
    items = _items(value)
    per = [text.lower() for key, text in items if key.lower() == "per"]
    if any(text not in ("provider", "operation") for text in per):
        raise ValueError(f"per={per[-1]}: expected per=provider or per=operation")
    rules = _rules([i for i in items if i[0].lower() != "per"], _BREAKER_FIELDS, BreakerRule())
    return BreakerSettings(rules.default, rules.overrides, per_operation=per[-1:] == ["operation"])


def parse_retry(value: object) -> ProviderRules[RetryRule] | None:
    switch = _switch(value)
    if switch is not None:
        return ProviderRules(RetryRule()) if switch else None
    return _rules(_items(value), _RETRY_FIELDS, RetryRule())


MAX_CACHE_TTL_SECONDS: Final = 30 * 86400.0
"""The cache deletes entries older than this: no TTL may reach further."""


def parse_cache_ttl(value: object) -> float:
    seconds = parse_duration(value)
    if seconds > MAX_CACHE_TTL_SECONDS:
        raise ValueError(f"{value!r}: a cache TTL is at most 30d")
    return seconds


def parse_cache(value: object) -> Mapping[str, float]:
    """TTLs by `provider.operation` (or `provider`: all its operations)."""
    if _switch(value) is False:
        return {}
    ttls: dict[str, float] = {}
    for key, text in _items(value):
        try:
            ttls[key] = parse_cache_ttl(text)
        except ValueError as error:
            raise ValueError(f"{key}={text}: {error}") from None
    return ttls


def cache_ttl(ttls: Mapping[str, float], provider: str, operation: str) -> float | None:
    """The TTL configured for a provider's operation, if its responses are cached."""
    return ttls.get(f"{provider}.{operation}", ttls.get(provider))
