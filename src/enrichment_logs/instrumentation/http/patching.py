"""Replacing a client method with a wrapper, and putting it back only if it is still ours.

`wrapt`'s own `unwrap` removes whatever wrapper is outermost; if another instrumentation wrapped
the same method after us, that would remove theirs and leave ours. Restoring by identity avoids
that: a method someone else has since wrapped is left alone (with a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import wrapt

_log = logging.getLogger("enrichment_logs.instrumentation.http")

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class Patch:
    """`owner.name` wrapped by `wrapper` between `apply()` and `revert()`."""

    def __init__(self, owner: type, name: str, wrapper: Wrapper) -> None:
        self._owner = owner
        self._name = name
        self._wrapper = wrapper
        self._installed: Any = None  # the wrapt FunctionWrapper while applied

    def apply(self) -> None:
        if self._installed is None:
            self._installed = wrapt.wrap_function_wrapper(self._owner, self._name, self._wrapper)

    def revert(self) -> None:
        installed = self._installed
        if installed is None:
            return
        original = installed.__wrapped__
        if vars(self._owner).get(self._name) is installed:
            setattr(self._owner, self._name, original)
        else:
            _log.warning(
                "%s.%s was wrapped again after enrichment-logs; leaving both wrappers in place",
                self._owner.__qualname__,
                self._name,
            )
        self._installed = None
