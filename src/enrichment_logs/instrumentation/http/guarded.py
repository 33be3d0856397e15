"""The guards of an HTTP call to Perplexity, Exa or Firecrawl (see `enrichment_logs.guards`).

Only a call that owns its row is guarded (not a job's status poll, not a request inside a user's
`@tool`, which is guarded as that tool call). Before the request is sent:

- **cache** (`cache="firecrawl.scrape=1h,exa.search=10m"`): a fresh cached response for the same
  request (`request_hash`: method, path and normalised JSON body) is returned as a real
  `httpx.Response` or `requests.Response`, which the SDK parses as usual; no request is sent.
  Streamed requests and jobs are never cached; only 2xx responses are stored.
- **budgets and breakers**: a refusal raises `BudgetExceeded` / `CircuitOpenError` to the caller.
- **retries** (`retry="attempts=3"`): a 429, 408 or 5xx response, a timeout or a connection error
  is retried with backoff and jitter, honouring `Retry-After`; the failed responses are closed and
  the caller gets the final one. Requests from an SDK that retries by itself (the Stainless SDKs,
  `perplexityai`, mark them with `x-stainless-retry-count`) are left to its retries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from enrichment_logs.guards import gate as guards
from enrichment_logs.guards import retry as retries
from enrichment_logs.guards.cache import CachedResponse
from enrichment_logs.guards.errors import CallRefused
from enrichment_logs.guards.failures import Failure, failure_of_status
from enrichment_logs.guards.gate import Gate
from enrichment_logs.guards.settings import RetryRule
from enrichment_logs.instrumentation.http.body import parse_json
from enrichment_logs.instrumentation.http.exchange import Exchange
from enrichment_logs.instrumentation.http.safety import warn_once
from enrichment_logs.tracing.tool_call import ToolCall

R = TypeVar("R")

SDK_RETRY_HEADER = "x-stainless-retry-count"


class HttpGuard:
    """One exchange's guards: a cached response it was served, or how to send it."""

    __slots__ = ("call", "gate", "hit", "key", "rule")

    def __init__(self, gate: Gate, call: ToolCall, key: str | None, rule: RetryRule | None) -> None:
        self.gate = gate
        self.call = call
        self.key = key
        """Where to store a successful response; None when it is not cached."""
        self.rule = rule
        self.hit: CachedResponse | None = None

    def send(self, attempt: Callable[[], R], discard: Callable[[Any], object]) -> R:
        if self.rule is None:
            return attempt()
        return retries.run(self.rule, self.call, attempt, _judge, discard)

    async def send_async(
        self, attempt: Callable[[], Awaitable[R]], discard: Callable[[Any], Awaitable[object]]
    ) -> R:
        if self.rule is None:
            return await attempt()
        return await retries.run_async(self.rule, self.call, attempt, _judge, discard)

    def keep(self, status: int, content_type: str | None, body: bytes) -> None:
        """Offer a read response to the cache (stored if the call ends a success)."""
        ticket = self.call.guard
        if self.key is not None and 200 <= status < 300 and isinstance(ticket, guards.Ticket):
            ticket.keep_for_cache(self.key, CachedResponse(status, content_type, body))


def guard(exchange: Exchange, *, streamed: bool, sdk_retries: bool) -> HttpGuard | None:
    """The exchange's guards, or None. Raises the gate's refusal (the call is then `rejected`);
    a cache hit ends the call as `cached` and is in `hit`, for the client to replay."""
    gate, call = guards.active, exchange.call
    if gate is None or call is None:
        return None
    try:
        ttl = None
        if not streamed and exchange.endpoint.job is None and exchange.request_hash is not None:
            ttl = gate.cache_ttl(call.provider, call.operation)
        rule = None if sdk_retries else gate.retry_rule(call.provider)
        if ttl is None and rule is None and not gate.admits:
            return None
        key = exchange.request_hash if ttl is not None else None
        guarded = HttpGuard(gate, call, key, rule)
        if key is not None and ttl is not None:
            guarded.hit = gate.cached(call, key, ttl)
            if guarded.hit is not None:
                call.succeed(parse_json(guarded.hit.body), status="cached")
                return guarded
        if gate.admits or key is not None:
            gate.admit(call)
        return guarded
    except CallRefused:
        raise
    except Exception as error:  # our bug must not cost the caller the call
        warn_once("guard", error)
        return None


def _judge(response: Any) -> Failure | None:
    """A response that is a transient failure (429, 408, 5xx), with its `Retry-After`."""
    return failure_of_status(response.status_code, response.headers)
