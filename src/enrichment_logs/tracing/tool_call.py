"""The life cycle of one paid call's span, written once for every way a call is logged.

The decorator, the seed's start/complete/fail API and the client instrumentations all drive a
`ToolCall`: start it, let usage be recorded while it runs, end it exactly once as a success, an
error or a rejection. Everything here runs on the pipeline's thread, so it only sets attributes:
pricing and writing happen in the exporter's thread.

What a call costs its thread beyond a bare span with the same attributes is the benchmark
`call_overhead`. The span gets its attributes in two batches, at its start and at its end, since
each SDK attribute set takes the span's lock and validates its value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from enrichment_logs import content, semconv
from enrichment_logs.ids import new_log_id
from enrichment_logs.pricing.usage import Usage
from enrichment_logs.semconv import CostSource
from enrichment_logs.semconv import Status as CallStatus
from enrichment_logs.tracing.attribution import current_attribution, is_foreign_genai_span
from enrichment_logs.tracing.session_totals import FinishedCall, SessionTotals

_log = logging.getLogger("enrichment_logs")
_tracer = trace.get_tracer("enrichment_logs")
_current_call: ContextVar[ToolCall | None] = ContextVar("enrichment_logs_tool_call", default=None)

ERROR_MESSAGE_MAX_CHARS = 4096
NOT_GIVEN: Any = object()
"""Marks a request or response that was not given (None is a value a call can return)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_USAGE = Usage()


def semconv_operation(operation: str) -> str:
    """The GenAI convention's operation name (`chat`, `embeddings`) for a provider operation."""
    if operation.startswith(("chat.", "responses", "completions", "agent")):
        return "chat"
    if operation.startswith("embeddings"):
        return "embeddings"
    return operation


class CallGuard(Protocol):
    """What a guard (`enrichment_logs.guards`) that admitted a call learns about it."""

    def failed(self, error: BaseException) -> None: ...

    def settle(self, finished: FinishedCall) -> None: ...


class ToolCall:
    """One paid call: its span, the usage recorded so far, and the session totals it counts in."""

    __slots__ = (
        "_attributes",
        "_ended",
        "_lock",
        "_sessions",
        "_started_ns",
        "_unsent",
        "_usage",
        "guard",
        "log_id",
        "operation",
        "provider",
        "span",
    )

    def __init__(
        self,
        provider: str,
        operation: str,
        *,
        model: str | None = None,
        request: Any = NOT_GIVEN,
        arguments: tuple[tuple[Any, ...], Mapping[str, Any]] | None = None,
        lead_id: str | None = None,
        company_id: str | None = None,
        request_hash: str | None = None,
    ) -> None:
        """Start the call's span under the current context (its parent and its attribution).

        The request is `request`, or a decorated function's `arguments` (positional, keyword);
        `request_hash` is its identity for the cache and `suggest`, when it has one.
        """
        self.provider = provider
        self.operation = operation
        self.log_id = new_log_id()
        self._usage = _NO_USAGE
        self._ended = False
        self._lock = threading.Lock()
        self.guard: CallGuard | None = None
        context = otel_context.get_current()  # read once: attribution, parent and span's start
        attribution = current_attribution(context)
        self._sessions: tuple[SessionTotals, ...] = attribution.totals
        attributes: dict[str, AttributeValue] = {
            **attribution.attributes,
            semconv.SPAN_TYPE: "tool_call",
            semconv.LOG_ID: self.log_id,
            semconv.PROVIDER: provider,
            semconv.OPERATION: operation,
            semconv.GEN_AI_PROVIDER_NAME: provider,
            semconv.GEN_AI_OPERATION_NAME: semconv_operation(operation),
        }
        # Explicit ids (the seed's API) win over the session's.
        if lead_id is not None:
            attributes[semconv.LEAD_ID] = lead_id
        if company_id is not None:
            attributes[semconv.COMPANY_ID] = company_id
        if model is not None:
            attributes[semconv.GEN_AI_REQUEST_MODEL] = model
        if request_hash is not None:
            attributes[semconv.REQUEST_HASH] = request_hash
        if arguments is not None:
            attributes[semconv.REQUEST_DATA] = content.current_policy().render_arguments(*arguments)
        elif request is not NOT_GIVEN:
            attributes[semconv.REQUEST_DATA] = content.current_policy().render(request)
        self._attributes = attributes
        self._unsent: dict[str, AttributeValue] = {}
        """Attributes set since the start, which the span gets when the call ends."""
        self._started_ns = time.time_ns()
        parent = trace.get_current_span(context)
        if is_foreign_genai_span(parent):  # another instrumentation's span of this same call
            parent.set_attribute(semconv.SPAN_TYPE, "covered")
        self.span = _tracer.start_span(
            f"{provider} {operation}",
            context,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=self._started_ns,
        )

    @property
    def lead_id(self) -> str | None:
        lead = self._attributes.get(semconv.LEAD_ID)
        return lead if isinstance(lead, str) else None

    def activate(self) -> _Activation:
        """Make this the current call (for `record_usage`) and its span the current span."""
        return _Activation(self)

    def make_current(self) -> None:
        """For calls started and ended in different functions (the seed's API)."""
        _current_call.set(self)

    def record_usage(self, usage: Usage) -> None:
        """Add usage reported during the call; counts add up over several reports."""
        with self._lock:  # the first report is taken as is: most calls report once
            self._usage = usage if self._usage is _NO_USAGE else self._usage.merged(usage)

    def succeed(self, response: Any = NOT_GIVEN, *, status: CallStatus = "success") -> None:
        if response is not NOT_GIVEN:
            self.set_attribute(semconv.RESPONSE_DATA, content.current_policy().render(response))
        self.end(status)

    def fail(
        self,
        error: BaseException | str,
        *,
        retry_count: int | None = None,
        status: CallStatus = "error",
    ) -> None:
        """End as an error: the exception's type and message go on the span and the row."""
        if isinstance(error, BaseException):
            kind = type(error)
            error_type = (
                kind.__qualname__
                if kind.__module__ == "builtins"
                else f"{kind.__module__}.{kind.__qualname__}"
            )
            message = str(error) or kind.__qualname__
            self.span.record_exception(error)
            if self.guard is not None:
                self.guard.failed(error)
        else:
            error_type, message = "error", str(error)
        message = content.current_policy().error_message(message[:ERROR_MESSAGE_MAX_CHARS])
        self.set_attribute(semconv.ERROR_TYPE, error_type)
        self.set_attribute(semconv.ERROR_MESSAGE, message)
        if retry_count is not None:
            self.set_attribute(semconv.RETRY_COUNT, retry_count)
        self.span.set_status(Status(StatusCode.ERROR, message))
        self.end(status)

    def set_cost(self, amount: Decimal, source: CostSource) -> None:
        """A cost known at the call: reported by the provider, or fixed by the caller."""
        self.set_attributes({semconv.COST: str(amount), semconv.COST_SOURCE: source})

    def end(self, status: CallStatus) -> None:
        """End the span once; a second end (e.g. complete after fail) is ignored with a warning."""
        with self._lock:
            if self._ended:
                _log.warning("tool call %s was already ended; ignoring", self.log_id)
                return
            self._ended = True
            usage, final = self._usage, self._unsent
        if usage is not _NO_USAGE:
            final.update(usage.to_attributes())
            if usage.reported_cost is not None:
                final[semconv.COST] = str(usage.reported_cost)
                final[semconv.COST_SOURCE] = "provider"
            if usage.invalid:
                final[semconv.INVALID] = [
                    f"{name}: {why}" for name, why in sorted(usage.invalid.items())
                ]
        final[semconv.STATUS] = status
        self.span.set_attributes(final)
        if self._sessions or self.guard is not None:
            finished = FinishedCall(
                {**self._attributes, **final},
                status,
                _EPOCH + timedelta(microseconds=self._started_ns // 1000),
            )
            for totals in self._sessions:
                totals.add(finished)
            if self.guard is not None:  # budgets, breakers and the cache learn the outcome
                self.guard.settle(finished)
        self.span.end()

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """An extra attribute for the span and the row's `attributes` JSON (the span gets it
        when the call ends; after the end the SDK ignores it with a warning)."""
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """`set_attribute` for several, under one acquisition of the call's lock."""
        with self._lock:
            if not self._ended:
                self._attributes.update(attributes)
                self._unsent.update(attributes)
                return
        self.span.set_attributes(attributes)


class _Activation:
    """`ToolCall.activate()`: a class rather than a generator, as it runs on every call."""

    __slots__ = ("_call", "_call_token", "_span_token")

    def __init__(self, call: ToolCall) -> None:
        self._call = call

    def __enter__(self) -> ToolCall:
        self._call_token: Token[ToolCall | None] = _current_call.set(self._call)
        # attach/detach rather than `trace.use_span`: the same context switch, without the
        # exception bookkeeping `end()` and `fail()` do themselves.
        self._span_token = otel_context.attach(trace.set_span_in_context(self._call.span))
        return self._call

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        otel_context.detach(self._span_token)
        _current_call.reset(self._call_token)


def current_call() -> ToolCall | None:
    """The open call of this context. A call ended elsewhere (the seed's API, ended at shutdown
    or from another thread) may still be set here; it takes no more usage, so it is not current."""
    call = _current_call.get()
    return None if call is None or call._ended else call


def restore_current(call: ToolCall, previous: ToolCall | None) -> None:
    """Undo `make_current` if `call` is still current here (it may end in another context)."""
    if _current_call.get() is call:
        _current_call.set(previous)
