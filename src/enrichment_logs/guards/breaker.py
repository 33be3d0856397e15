"""Circuit breakers: a provider that keeps failing is left alone for a while.

A breaker is `closed` (calls go through) until `failures` transient failures (429, 5xx, timeouts,
connection errors: see `failures.py`) happen in a row within `window` seconds; it is then `open`:
every call is refused at once with `CircuitOpenError`, with no request sent. After `cooldown`
seconds it is `half_open`: one probe call goes through (others are still refused); the probe's
success closes the breaker, its failure opens it for another cool-down. A call answered with a
client error (400, 401, ...), or failing with an exception of the caller's own (a `KeyError` in
a `@tool` function), reached or never concerned the provider: it counts as a success here. A
failure reported as a message (a failed job, `fail_enrichment_log`) counts as a failure.

There is one breaker per provider, or per provider and operation with `per=operation` (a Firecrawl
crawl outage then leaves scrapes alone).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from enrichment_logs.guards.errors import CircuitOpenError
from enrichment_logs.guards.settings import BreakerRule, BreakerSettings

State = Literal["closed", "half_open", "open"]
STATE_VALUES: Final[dict[State, int]] = {"closed": 0, "half_open": 1, "open": 2}
"""The `enrichment_logs.breaker.state` gauge's values."""


@dataclass(frozen=True, slots=True)
class Transition:
    breaker: CircuitBreaker
    state: State
    reason: str


@dataclass(frozen=True, slots=True)
class Pass:
    """A call the breaker let through; a probe decides whether it closes."""

    breaker: CircuitBreaker
    probe: bool
    transition: Transition | None


class CircuitBreaker:
    """One provider's (or provider and operation's) breaker; thread-safe."""

    def __init__(
        self,
        provider: str,
        operation: str,
        rule: BreakerRule,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.operation = operation
        """Empty for a breaker of the whole provider."""
        self.rule = rule
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._probe_started: float | None = None

    @property
    def name(self) -> str:
        return f"{self.provider} {self.operation}".strip()

    @property
    def state(self) -> State:
        return self._state

    def admit(self, operation: str) -> Pass:
        """Let a call of `operation` through, or raise `CircuitOpenError`."""
        with self._lock:
            now = self._clock()
            if self._state == "closed":
                return Pass(self, probe=False, transition=None)
            transition = None
            if self._state == "open":
                if now - self._opened_at < self.rule.cooldown_seconds:
                    raise self._refusal(
                        operation, self._opened_at + self.rule.cooldown_seconds - now
                    )
                self._state = "half_open"
                transition = Transition(self, "half_open", "the cool-down ended: one probe call")
            elif self._probe_started is not None:
                # Half open with a probe in flight; one that never ended frees its place
                # after a cool-down.
                free_at = self._probe_started + self.rule.cooldown_seconds
                if now < free_at:
                    raise self._refusal(operation, free_at - now)
            self._probe_started = now
            return Pass(self, probe=True, transition=transition)

    def cancel(self, admitted: Pass) -> None:
        """A probe that was refused by another guard was never sent."""
        if admitted.probe:
            with self._lock:
                self._probe_started = None

    def record(self, admitted: Pass, failed: bool) -> Transition | None:
        """The outcome of a call this breaker let through."""
        with self._lock:
            now = self._clock()
            if admitted.probe:
                self._probe_started = None
            if self._state == "half_open" and admitted.probe:
                if failed:
                    return self._open(now, "the probe call failed")
                self._state = "closed"
                self._failures.clear()
                return Transition(self, "closed", "the probe call succeeded")
            if self._state != "closed":
                return None  # decided by the probe
            if not failed:
                self._failures.clear()
                return None
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self.rule.window_seconds:
                self._failures.popleft()
            if len(self._failures) >= self.rule.failures:
                return self._open(
                    now,
                    f"{len(self._failures)} failures in a row within {self.rule.window_seconds:g}s",
                )
            return None

    def _open(self, now: float, reason: str) -> Transition:
        self._state = "open"
        self._opened_at = now
        self._failures.clear()
        return Transition(self, "open", reason)

    def _refusal(self, operation: str, retry_in: float) -> CircuitOpenError:
        return CircuitOpenError(
            provider=self.provider,
            operation=operation,
            breaker=self.name,
            retry_in=retry_in,
        )


class Breakers:
    """The breakers of every provider (and operation), made on first use."""

    def __init__(self, settings: BreakerSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def admit(self, provider: str, operation: str) -> Pass:
        return self._breaker(provider, operation).admit(operation)

    def all(self) -> list[CircuitBreaker]:
        with self._lock:
            return list(self._breakers.values())

    def _breaker(self, provider: str, operation: str) -> CircuitBreaker:
        key = (provider, operation if self._settings.per_operation else "")
        breaker = self._breakers.get(key)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.get(key)
                if breaker is None:
                    rule = self._settings.for_provider(provider)
                    breaker = self._breakers[key] = CircuitBreaker(*key, rule)
        return breaker
