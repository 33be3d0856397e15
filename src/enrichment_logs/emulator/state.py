"""What the emulated providers remember between calls: id sequence, prompt cache, async jobs.

Kept apart from the server so that a provider module receives exactly the memory it may use, and
guarded by one lock per concern because requests arrive on many threads at once.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from enrichment_logs.emulator.text import CHARS_PER_TOKEN

CACHE_MIN_TOKENS = 1024
"""OpenAI caches prompts of at least 1,024 tokens..."""
CACHE_STEP_TOKENS = 128
"""...in steps of 128 tokens."""
_PROMPTS_KEPT_PER_SCOPE = 64


@dataclass(frozen=True, slots=True)
class CacheResult:
    read: int
    """Input tokens served from the cache."""
    written: int
    """Input tokens newly written to the cache by this request."""


class PromptCache:
    """Reports a repeated prompt prefix as cached input, the way automatic prompt caching does.

    A prompt is compared with the earlier prompts of its scope (the model plus the request's
    `prompt_cache_key`, so a key separates caches as it routes them on the real API); the longest
    shared prefix, counted in 128-token steps once it reaches 1,024 tokens, is a cache read. The
    cacheable part not read is a cache write. No clock is involved, so results are deterministic.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prompts: defaultdict[str, deque[str]] = defaultdict(
            lambda: deque(maxlen=_PROMPTS_KEPT_PER_SCOPE)
        )

    def lookup(self, scope: str, prompt: str) -> CacheResult:
        with self._lock:
            seen = self._prompts[scope]
            earlier = list(seen)
            seen.append(prompt)
        shared = max((_shared_length(prompt, other) for other in earlier), default=0)
        read = _cacheable(shared // CHARS_PER_TOKEN)
        return CacheResult(read=read, written=_cacheable(len(prompt) // CHARS_PER_TOKEN) - read)


def _shared_length(first: str, second: str) -> int:
    """Length of the common prefix, by bisection so long prompts compare at C speed."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _cacheable(tokens: int) -> int:
    return tokens // CACHE_STEP_TOKENS * CACHE_STEP_TOKENS if tokens >= CACHE_MIN_TOKENS else 0


class EmulatorState:
    """Shared memory of one emulator; ids follow a counter so a seed reproduces them."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counter = 0
        self._lock = threading.Lock()
        self._jobs: dict[str, Any] = {}
        self.prompt_cache = PromptCache()

    def _next_digest(self) -> bytes:
        with self._lock:
            self._counter += 1
            counter = self._counter
        return hashlib.sha256(f"{self._seed}:{counter}".encode()).digest()

    def new_id(self, prefix: str, length: int = 24) -> str:
        """`prefix` followed by `length` hex digits, like `chatcmpl-...` or `resp_...`."""
        return prefix + self._next_digest().hex()[:length]

    def new_uuid(self) -> str:
        return str(uuid.UUID(bytes=self._next_digest()[:16], version=4))

    def save_job(self, job_id: str, job: Any) -> None:
        with self._lock:
            self._jobs[job_id] = job

    def job(self, job_id: str) -> Any:
        """The saved job, or `None` for an unknown id."""
        with self._lock:
            return self._jobs.get(job_id)
