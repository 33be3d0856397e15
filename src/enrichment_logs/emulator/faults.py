"""What goes wrong, per provider: failure rate, scripted replies, latency, hangs, malformed bodies.

The library's job is to log failures as faithfully as successes, so tests need failures on demand.
Every decision comes from a per-provider random generator seeded from the emulator's seed, so a
run is reproducible however the threads interleave between providers.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

Malformed = Literal["truncated", "not_json", "huge"]
"""`truncated`: the body (or stream) is cut in half; `not_json`: an HTML error page with the
original status; `huge`: the normal reply padded to `HUGE_BODY_BYTES` (still valid JSON)."""
ScriptStep = int | Literal["hang"] | Malformed
"""One scripted reply: an HTTP status (2xx means the normal reply), `"hang"`, or a malformation."""


@dataclass(frozen=True, slots=True)
class Decision:
    """How to answer one request, decided before the provider builds its reply."""

    status: int | None = None
    """An error status to send instead of the provider's reply."""
    retry_after: float | None = None
    delay: float = 0.0
    hang: bool = False
    malformed: Malformed | None = None


class FaultPlan:
    """Thread-safe fault settings of one emulator; scripted steps win over the failure rate."""

    def __init__(
        self,
        seed: int,
        fail: Mapping[str, float],
        latency: Mapping[str, float],
        hang: Iterable[str],
        malformed: Mapping[str, Malformed],
    ) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rates: dict[str, float] = {}
        self._latency = dict(latency)
        self._hang = set(hang)
        self._malformed = dict(malformed)
        self._scripts: defaultdict[str, deque[tuple[ScriptStep, float | None]]] = defaultdict(deque)
        self._random: dict[str, random.Random] = {}
        for provider, rate in fail.items():
            self.set_failure_rate(provider, rate)

    def set_failure_rate(self, provider: str, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"failure rate must be within [0, 1], got {rate}")
        with self._lock:
            self._rates[provider] = rate

    def set_latency(self, provider: str, seconds: float) -> None:
        with self._lock:
            self._latency[provider] = seconds

    def set_hang(self, provider: str, hang: bool) -> None:
        with self._lock:
            (self._hang.add if hang else self._hang.discard)(provider)

    def set_malformed(self, provider: str, kind: Malformed | None) -> None:
        if kind is not None and kind not in get_args(Malformed):
            raise ValueError(f"unknown malformation {kind!r}")
        with self._lock:
            if kind is None:
                self._malformed.pop(provider, None)
            else:
                self._malformed[provider] = kind

    def script(self, provider: str, steps: Iterable[ScriptStep], retry_after: float | None) -> None:
        steps = list(steps)
        for step in steps:
            if isinstance(step, int) and not 100 <= step <= 599:
                raise ValueError(f"not an HTTP status: {step}")
            if isinstance(step, str) and step not in ("hang", *get_args(Malformed)):
                raise ValueError(f"unknown script step {step!r}")
        with self._lock:
            self._scripts[provider].extend((step, retry_after) for step in steps)

    def decide(self, provider: str) -> Decision:
        with self._lock:
            delay = self._latency.get(provider, 0.0)
            hang = provider in self._hang
            malformed = self._malformed.get(provider)
            if self._scripts[provider]:
                step, retry_after = self._scripts[provider].popleft()
                if step == "hang":
                    return Decision(delay=delay, hang=True)
                if isinstance(step, str):
                    return Decision(delay=delay, malformed=step)
                if not 200 <= step < 300:
                    return Decision(status=step, retry_after=retry_after, delay=delay)
                return Decision(delay=delay)
            rate = self._rates.get(provider, 0.0)
            if rate and self._generator(provider).random() < rate:
                return Decision(status=500, delay=delay)
            return Decision(delay=delay, hang=hang, malformed=malformed)

    def _generator(self, provider: str) -> random.Random:
        if provider not in self._random:
            self._random[provider] = random.Random(f"{self._seed}:{provider}")
        return self._random[provider]
