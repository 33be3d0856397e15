"""`enrichment_session`: one lead's enrichment, with its cost, tokens and calls totalled.

The enrichment engine opens a session per lead (or company); every span started inside it, in
this thread, in threads it starts and in asyncio tasks it creates, carries the lead, company and
session ids. When it closes, the session span carries the totals of its tool calls and the handle
exposes them, which is how the engine aggregates cost per enrichment session.
"""

from __future__ import annotations

from contextvars import Token
from decimal import Decimal
from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from enrichment_logs import runtime, semconv
from enrichment_logs.ids import new_log_id
from enrichment_logs.tracing.attribution import context_with, current_attribution
from enrichment_logs.tracing.session_totals import SessionSummary, SessionTotals

_tracer = trace.get_tracer("enrichment_logs")
_EMPTY = SessionSummary(
    calls=0, cost=Decimal(0), unknown_cost_calls=0, input_tokens=0, output_tokens=0
)


class enrichment_session:
    """A context manager (sync and async) for one enrichment session; totals are set on exit."""

    def __init__(
        self,
        lead_id: str | None = None,
        company_id: str | None = None,
        session_id: str | None = None,
    ) -> None:
        self.session_id = session_id or new_log_id()
        parent = current_attribution()
        self._totals = SessionTotals()
        self._attribution = parent.nested(lead_id, company_id, self.session_id, self._totals)
        self.lead_id = self._attribution.lead_id
        self.company_id = self._attribution.company_id
        self._summary = _EMPTY
        self._token: Token[otel_context.Context] | None = None
        self._span: trace.Span | None = None

    @property
    def cost(self) -> Decimal:
        """USD of the calls whose cost is known; see `unknown_cost_calls` for the others."""
        return self._summary.cost

    @property
    def calls(self) -> int:
        return self._summary.calls

    @property
    def unknown_cost_calls(self) -> int:
        return self._summary.unknown_cost_calls

    @property
    def input_tokens(self) -> int:
        return self._summary.input_tokens

    @property
    def output_tokens(self) -> int:
        return self._summary.output_tokens

    def __enter__(self) -> enrichment_session:
        context = context_with(self._attribution)
        self._span = _tracer.start_span(
            "enrichment_session",
            context=context,
            attributes={semconv.SPAN_TYPE: "session", **self._attribution.attributes},
        )
        self._token = otel_context.attach(trace.set_span_in_context(self._span, context))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._span is not None and self._token is not None, "session was not entered"
        self._summary = self._totals.summarize(runtime.active_pricer())
        self._span.set_attributes(
            {
                semconv.SESSION_CALLS: self._summary.calls,
                semconv.SESSION_COST: str(self._summary.cost),
                semconv.SESSION_COST_UNKNOWN_CALLS: self._summary.unknown_cost_calls,
                semconv.SESSION_INPUT_TOKENS: self._summary.input_tokens,
                semconv.SESSION_OUTPUT_TOKENS: self._summary.output_tokens,
            }
        )
        if exc is not None:
            self._span.record_exception(exc)
            self._span.set_status(Status(StatusCode.ERROR, str(exc)))
        self._span.end()
        otel_context.detach(self._token)

    async def __aenter__(self) -> enrichment_session:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)
