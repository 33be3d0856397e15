"""Which failures are the provider's passing trouble: the one rule retries and breakers share.

A transient failure is a 429, a 408, any 5xx, a timeout or a connection error: trying again later
may work, and many of them in a row mean the provider is down. A 400, 401 or 404 is the
caller's problem: retrying cannot help, and it says nothing about the provider's health.

Exceptions are recognised by their class hierarchy's names, so the same rule covers httpx,
httpx2 (openai 3.x), requests, the Stainless SDKs (`openai`, `perplexityai`) and the built-in
`TimeoutError`/`ConnectionError`, without importing any of them; an exception that carries an
HTTP status (`.status_code`, or `.response.status_code`) is judged by that status.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final

TRANSIENT_STATUSES: Final = frozenset({408, 429})
"""Besides every 5xx."""
_TRANSIENT_NAMES: Final = frozenset(
    {
        "TimeoutError",  # built-in, asyncio
        "ConnectionError",  # built-in, requests
        "TimeoutException",  # httpx, httpx2
        "NetworkError",  # httpx: connect, read, write and close errors
        "RemoteProtocolError",  # httpx: the server hung up mid-response
        "Timeout",  # requests
        "ChunkedEncodingError",  # requests: the body was cut off
        "APIConnectionError",  # openai, perplexityai (their timeouts subclass it)
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    """A transient failure: what it was, and how long the provider asked us to wait."""

    reason: str
    """`HTTP 429`, `ConnectTimeout`, ..."""
    retry_after: float | None = None


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or 500 <= status <= 599


def failure_of_status(status: int, headers: Mapping[str, str] | Any) -> Failure | None:
    """The failure an HTTP response is, if it is a transient one."""
    if not is_transient_status(status):
        return None
    return Failure(f"HTTP {status}", retry_after_seconds(headers))


def failure_of_exception(error: BaseException) -> Failure | None:
    """The failure an exception is, if it is a transient one."""
    response = getattr(error, "response", None)
    status = getattr(error, "status_code", None)
    if not isinstance(status, int):
        status = getattr(response, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return failure_of_status(status, getattr(response, "headers", None))
    names = {kind.__name__ for kind in type(error).__mro__}
    if names & _TRANSIENT_NAMES:
        return Failure(type(error).__name__)
    return None


def retry_after_seconds(headers: Mapping[str, str] | Any) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; else None."""
    if headers is None:
        return None
    try:
        milliseconds = headers.get("retry-after-ms")
        if milliseconds is not None:
            return _non_negative(float(milliseconds) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return _non_negative(float(value))
        except ValueError:
            return _non_negative(parsedate_to_datetime(value).timestamp() - time.time())
    except (AttributeError, TypeError, ValueError, IndexError):
        return None  # an unreadable header is no instruction


def _non_negative(seconds: float) -> float | None:
    return max(0.0, seconds) if math.isfinite(seconds) else None
