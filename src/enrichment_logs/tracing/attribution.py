"""Who a call is for: lead, company and session, carried in the OpenTelemetry context.

The attribution lives in the OTel context (not in baggage: baggage would send lead ids to the
providers in HTTP headers), so it follows spans wherever the context goes: into asyncio tasks by
contextvars, into threads by the `opentelemetry-instrumentation-threading` instrumentor that
`configure()` enables. A span processor stamps it on every span when the span starts, so every
span (ours, the HTTP client's, the user's) carries the same lead, company and session.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.util.types import AttributeValue

from enrichment_logs import semconv
from enrichment_logs.tracing.session_totals import SessionTotals

_ATTRIBUTION_KEY = otel_context.create_key("enrichment_logs.attribution")


@dataclass(frozen=True, slots=True)
class Attribution:
    """The lead, company and session in effect, and the totals of every enclosing session."""

    lead_id: str | None = None
    company_id: str | None = None
    session_id: str | None = None
    totals: tuple[SessionTotals, ...] = ()
    attributes: dict[str, AttributeValue] = field(default_factory=dict, compare=False)

    def nested(
        self,
        lead_id: str | None,
        company_id: str | None,
        session_id: str,
        totals: SessionTotals,
    ) -> Attribution:
        """The attribution of a session opened inside this one: unset ids are inherited."""
        lead = lead_id if lead_id is not None else self.lead_id
        company = company_id if company_id is not None else self.company_id
        attributes: dict[str, AttributeValue] = {semconv.SESSION_ID: session_id}
        if lead is not None:
            attributes[semconv.LEAD_ID] = lead
        if company is not None:
            attributes[semconv.COMPANY_ID] = company
        return Attribution(lead, company, session_id, (*self.totals, totals), attributes)


NO_ATTRIBUTION = Attribution()


def current_attribution(context: otel_context.Context | None = None) -> Attribution:
    value = otel_context.get_value(_ATTRIBUTION_KEY, context)
    return value if isinstance(value, Attribution) else NO_ATTRIBUTION


def context_with(attribution: Attribution) -> otel_context.Context:
    return otel_context.set_value(_ATTRIBUTION_KEY, attribution)


class AttributionProcessor(SpanProcessor):
    """Stamps lead, company and session ids on every span as it starts (the only cheap moment).

    It also marks a span of another GenAI instrumentation (the official openai-v2, OpenLLMetry)
    started inside one of our tool calls as `covered`, so one call never becomes two rows.
    """

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        started_with = span.attributes
        if started_with is not None and started_with.get(semconv.SPAN_TYPE) == "tool_call":
            return  # our tool calls start with their attribution (ToolCall reads it anyway)
        attributes = current_attribution(parent_context).attributes
        if attributes:
            span.set_attributes(attributes)
        parent = trace.get_current_span(parent_context)
        if is_foreign_genai_span(span) and _span_type(parent) == "tool_call":
            span.set_attribute(semconv.SPAN_TYPE, "covered")


def is_foreign_genai_span(span: trace.Span) -> bool:
    """A recording span of another GenAI instrumentation: a provider name, not our span type."""
    attributes = getattr(span, "attributes", None) or {}
    return (
        semconv.GEN_AI_PROVIDER_NAME in attributes
        and semconv.SPAN_TYPE not in attributes
        and span.is_recording()
    )


def ensure_attribution(provider: TracerProvider) -> None:
    """Add the processor to `provider` once (from `configure()` or an instrumentor)."""
    with _providers_lock:
        if provider in _attributed_providers:
            return
        _attributed_providers.add(provider)
    provider.add_span_processor(AttributionProcessor())


def attribute_spans_of(tracer_provider: object | None = None) -> None:
    """For instrumentors: attribution on the provider they were given, else the global one
    (under `opentelemetry-instrument` nobody calls `configure()` to add it)."""
    provider = tracer_provider or trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        ensure_attribution(provider)


def _span_type(span: trace.Span) -> object:
    return (getattr(span, "attributes", None) or {}).get(semconv.SPAN_TYPE)


_attributed_providers: set[TracerProvider] = set()
_providers_lock = threading.Lock()
