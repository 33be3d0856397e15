"""Our code must never break the caller's HTTP call: every observer entry point goes through here.

A bug in parsing a provider's response, or a shape we did not foresee, costs a row its usage or
its cost, never the pipeline its result. Each distinct failure is logged once per process, so a
hot loop does not flood the log.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_log = logging.getLogger("enrichment_logs.instrumentation.http")
_seen: set[tuple[str, str]] = set()
_seen_lock = threading.Lock()

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D")


def warn_once(where: str, error: BaseException) -> None:
    """Log `error` at `where` the first time this kind of error happens there."""
    key = (where, type(error).__name__)
    with _seen_lock:
        if key in _seen:
            return
        _seen.add(key)
    _log.warning(
        "enrichment-logs HTTP instrumentation: %s failed (%r); the call goes on unlogged or "
        "with partial usage. Further %s errors here are not logged.",
        where,
        error,
        type(error).__name__,
    )


def never_raises(default: D) -> Callable[[Callable[P, R]], Callable[P, R | D]]:
    """Run the function; on any exception, warn once and return `default` instead."""

    def decorate(function: Callable[P, R]) -> Callable[P, R | D]:
        @functools.wraps(function)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | D:
            try:
                return function(*args, **kwargs)
            except Exception as error:
                warn_once(function.__qualname__, error)
                return default

        return guarded

    return decorate
