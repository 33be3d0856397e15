"""The guards of a `@tool` function's calls: cache, budgets and breaker, retries.

`@tool(..., retry=True | N, cache_ttl="1h")`, on top of whatever `configure()` turned on:

- **request hash**: a call whose arguments are JSON-shaped gets `request_hash` (so
  `enrichment-logs suggest` sees its repeats); other calls have none and are never cached.
- **cache**: with `cache_ttl` (or the `cache` setting naming this provider and operation), a
  call repeating a successful one within the TTL returns that call's result without running the
  function: a `cached` row with cost 0 and the cost saved. Only results that survive a JSON round
  trip unchanged (dicts, lists, strings, numbers) are stored.
- **budgets and breaker**: as for every call (`gate.py`); a fixed `cost=` is the estimate.
- **retry**: `retry=True` retries transient failures (see `failures.py`) by the `retry` setting's
  rule for this provider, or the defaults (3 attempts); `retry=N` makes it N attempts. Only the
  decorator asks: the `retry` setting alone does not retry user functions.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from enrichment_logs.guards import gate as gates
from enrichment_logs.guards import retry as retries
from enrichment_logs.guards.cache import CachedResponse
from enrichment_logs.guards.request_hash import request_hash
from enrichment_logs.guards.settings import RetryRule, parse_cache_ttl
from enrichment_logs.tracing.tool_call import ToolCall

_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class ToolOptions:
    """The decorator's guard options, checked when it is applied."""

    retry: bool | int | None = None
    cache_ttl: float | None = None
    fixed_cost: Decimal | None = None

    @classmethod
    def of(
        cls, retry: bool | int | None, cache_ttl: float | str | None, fixed_cost: Decimal | None
    ) -> ToolOptions:
        attempts = isinstance(retry, int) and not isinstance(retry, bool) and retry >= 1
        if not (retry is None or isinstance(retry, bool) or attempts):
            raise ValueError(f"retry={retry!r}: expected True, False or a number of attempts")
        ttl = None
        if cache_ttl is not None:
            try:
                ttl = parse_cache_ttl(cache_ttl)
            except ValueError as error:
                raise ValueError(f"cache_ttl={cache_ttl!r}: {error}") from None
        return cls(retry, ttl, fixed_cost)


class ToolGuard:
    """One decorated call's guards: a cached result it was served, or how to run it."""

    __slots__ = ("cache_key", "call", "rule", "served", "value")

    def __init__(self, call: ToolCall, rule: RetryRule | None, cache_key: str | None) -> None:
        self.call = call
        self.rule = rule
        self.cache_key = cache_key
        """Where to store a successful result; None when it is not cached."""
        self.served = False
        self.value: Any = None

    def run(self, func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if self.rule is None:
            return func(*args, **kwargs)
        return retries.run(self.rule, self.call, lambda: func(*args, **kwargs))

    async def run_async(
        self,
        func: Callable[..., Awaitable[Any]],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> Any:
        if self.rule is None:
            return await func(*args, **kwargs)
        return await retries.run_async(self.rule, self.call, lambda: func(*args, **kwargs))

    def keep(self, result: Any) -> None:
        """Offer a result to the cache (stored if the call ends a success)."""
        ticket = self.call.guard
        if self.cache_key is None or not isinstance(ticket, gates.Ticket):
            return
        try:
            body = json.dumps(result, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError):
            return
        if json.loads(body) == result:
            ticket.keep_for_cache(self.cache_key, CachedResponse(200, _JSON, body))


def tool_request_hash(
    provider: str, operation: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str | None:
    """The request hash of a `@tool` call, taken before its span starts so that the span starts
    with it (one attribute batch less on the caller's thread)."""
    return request_hash(provider, operation, {"args": args, "kwargs": kwargs})


def guard_tool(
    call: ToolCall, options: ToolOptions, model: str | None, key: str | None
) -> ToolGuard | None:
    """The call's guards, or None when it has none; `key` is its `tool_request_hash`. Raises the
    gate's refusal (the call is then ended as `rejected`); a call served from the cache is ended
    as `cached` (`served`)."""
    gate, active = gates.configured, gates.active
    ttl = options.cache_ttl
    if ttl is None and active is not None:
        ttl = active.cache_ttl(call.provider, call.operation)
    caching = gate is not None and ttl is not None and key is not None
    if not caching and not options.retry and (active is None or not active.admits):
        return None
    if gate is not None and caching:
        assert ttl is not None and key is not None
        hit = gate.cached(call, key, ttl)
        if hit is not None:
            guard = ToolGuard(call, None, None)
            guard.served, guard.value = True, json.loads(hit.body)
            call.succeed(guard.value, status="cached")
            return guard
    if gate is not None and (caching or (active is not None and active.admits)):
        gate.admit(call, model=model, fixed_cost=options.fixed_cost)
    return ToolGuard(call, _retry_rule(options, call.provider), key if caching else None)


def _retry_rule(options: ToolOptions, provider: str) -> RetryRule | None:
    if not options.retry:
        return None
    gate = gates.active
    configured = gate.settings.retry if gate is not None else None
    rule = configured.for_provider(provider) if configured is not None else RetryRule()
    if isinstance(options.retry, bool):
        return rule
    return dataclasses.replace(rule, attempts=options.retry)
