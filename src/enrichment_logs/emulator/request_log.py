"""Every request the emulator received, so a test can prove a call was (or was not) sent."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    provider: str
    """`openai`, `perplexity`, `exa`, `firecrawl`, or `unknown` for an unmounted path."""
    method: str
    path: str
    """Relative to the provider's mount, as on the real API: `/v1/chat/completions`, `/search`."""
    headers: Mapping[str, str]
    """Header names lowercased."""
    body: Any
    """The parsed JSON body, or `None`."""
    status: int
    """The status the emulator chose to answer with (a hang still answers, late)."""


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []

    def append(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def count(self, provider: str | None = None, path: str | None = None) -> int:
        return sum(
            1
            for record in self.snapshot()
            if (provider is None or record.provider == provider)
            and (path is None or record.path == path)
        )
