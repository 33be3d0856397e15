"""Where one SDK call's outcome goes, and the rule that our failures never become the caller's.

An SDK call normally gets its own `ToolCall` (one row). When a call is already current, the user
already logs this work as one tool call (their `@tool` around a function that calls OpenAI, or
the seed's `start_enrichment_log`), so a second row would count the same spend twice: the SDK
call then adds its usage and reported cost to that call and leaves ending it to its owner.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from enrichment_logs.pricing.usage import Usage
from enrichment_logs.semconv import Status as CallStatus
from enrichment_logs.tracing.tool_call import ToolCall, current_call

_log = logging.getLogger("enrichment_logs")
_reported: set[str] = set()

NO_RESPONSE: Final[Any] = object()
"""`finish(response=NO_RESPONSE)`: the call has no response object to describe (a chat stream)."""


def report_failure(where: str) -> None:
    """Log a failure of our own code once per place; the caller's call goes on unaffected."""
    if where in _reported:
        return
    _reported.add(where)
    _log.warning(
        "enrichment-logs OpenAI instrumentation failed (%s); the call is not affected",
        where,
        exc_info=True,
    )


class Recording:
    """One SDK call's target: a `ToolCall` it owns, or the call that was already current."""

    __slots__ = ("call", "owned")

    def __init__(self, call: ToolCall, *, owned: bool) -> None:
        self.call = call
        self.owned = owned

    @classmethod
    def start(cls, provider: str, operation: str, model: str | None, request: Any) -> Recording:
        current = current_call()
        if current is not None:
            return cls(current, owned=False)
        return cls(ToolCall(provider, operation, model=model, request=request), owned=True)

    def activate(self) -> AbstractContextManager[ToolCall]:
        """Make an owned call current while the SDK sends, so HTTP spans nest under it."""
        return self.call.activate() if self.owned else nullcontext(self.call)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        try:
            self.call.set_attribute(key, value)
        except Exception:
            report_failure("set attribute")

    def finish(
        self, usage: Usage | None, response: Any = NO_RESPONSE, failure: str | None = None
    ) -> None:
        """Record the usage, then end an owned call as a success, or as `failure` (a response
        that says it failed). Never raises."""
        self.record(usage)
        if not self.owned:
            return
        try:
            if failure is not None:
                self.call.fail(failure)
            elif response is NO_RESPONSE:
                self.call.succeed()
            else:
                self.call.succeed(response)
        except Exception:
            report_failure("end call")
            self._end_anyway("success" if failure is None else "error")

    def fail(self, error: BaseException, usage: Usage | None = None) -> None:
        """The SDK raised: end an owned call as an error (the caller gets the exception as is)."""
        self.record(usage)
        if not self.owned:
            return
        try:
            self.call.fail(error)
        except Exception:
            report_failure("record error")
            self._end_anyway("error")

    def record(self, usage: Usage | None) -> None:
        """Add usage to the call (never raises)."""
        try:
            if usage is not None:
                self.call.record_usage(usage)
        except Exception:
            report_failure("record usage")

    def _end_anyway(self, status: CallStatus) -> None:
        """After a failure while ending, still end the span, so that the call has its row."""
        try:
            self.call.end(status)
        except Exception:
            report_failure("end call again")
