"""A known set of calls, written through the real exporter into a real DuckDB file.

The spans are real SDK spans with chosen start and end times (the only thing the public API
cannot choose), handed to `DuckDBSpanExporter` exactly as the batch processor would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

from enrichment_logs import semconv
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.pricing.usage import Cost, Usage

EST = timezone(timedelta(hours=-5), "EST")


class NoPrices:
    """A price table that knows nothing: calls without a cost of their own stay unknown."""

    def price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost:
        return Cost(None, "unknown", reason=f"no price for {provider} {operation}")


@dataclass(frozen=True)
class Call:
    """One logged call, as the pipeline would have made it."""

    started: datetime
    provider: str
    operation: str
    duration_ms: int
    cost: str | None = None  # as the provider reported it; None: unknown
    session: str | None = None
    lead: str | None = None
    company: str | None = None
    status: str = "success"
    error_type: str | None = None
    retries: int = 0
    model: str | None = None
    usage: dict[str, AttributeValue] = field(default_factory=dict)
    request_hash: str | None = None

    def attributes(self) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            semconv.SPAN_TYPE: "tool_call",
            semconv.PROVIDER: self.provider,
            semconv.OPERATION: self.operation,
            semconv.STATUS: self.status,
            semconv.RETRY_COUNT: self.retries,
            semconv.CACHE_HIT: self.status == "cached",
            **self.usage,
        }
        optional: dict[str, AttributeValue | None] = {
            semconv.SESSION_ID: self.session,
            semconv.LEAD_ID: self.lead,
            semconv.COMPANY_ID: self.company,
            semconv.ERROR_TYPE: self.error_type,
            semconv.GEN_AI_REQUEST_MODEL: self.model,
            semconv.REQUEST_HASH: self.request_hash,
            semconv.COST: self.cost,
            semconv.COST_SOURCE: None if self.cost is None else "provider",
        }
        attributes.update({key: value for key, value in optional.items() if value is not None})
        return attributes


def at(text: str) -> datetime:
    """An aware datetime from ISO text with its offset."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


OPENAI_CHAT = "chat.completions.create"
CALLS: tuple[Call, ...] = (
    # lead-a (acme), session s1, Monday 2024-03-04: every call succeeds.
    Call(
        at("2024-03-04T10:00:00+00:00"),
        "exa",
        "search",
        100,
        "0.005",
        "s1",
        "lead-a",
        "acme",
        request_hash="h1",
    ),
    Call(
        at("2024-03-04T10:00:01+00:00"),
        "openai",
        OPENAI_CHAT,
        800,
        "0.0012",
        "s1",
        "lead-a",
        "acme",
        model="gpt-4o-mini",
        usage={
            semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000,
            semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 200,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 300,
            semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 50,
        },
    ),
    Call(
        at("2024-03-04T10:00:02+00:00"),
        "firecrawl",
        "scrape",
        1500,
        "0.002",
        "s1",
        "lead-a",
        "acme",
        usage={semconv.CREDITS: "2"},
    ),
    # lead-b (acme), session s2, 23:30 in New York on 2024-03-04: 04:30 UTC on 2024-03-05.
    Call(
        at("2024-03-04T23:30:00-05:00"),
        "exa",
        "search",
        200,
        "0.005",
        "s2",
        "lead-b",
        "acme",
        request_hash="h1",
    ),
    Call(
        at("2024-03-04T23:30:01-05:00"),
        "openai",
        OPENAI_CHAT,
        300,
        None,
        "s2",
        "lead-b",
        "acme",
        status="error",
        error_type="RateLimitError",
        retries=2,
        model="gpt-4o-mini",
    ),
    Call(
        at("2024-03-04T23:30:02-05:00"), "perplexity", "search", 400, None, "s2", "lead-b", "acme"
    ),
    # A call outside any session, 2024-03-06.
    Call(at("2024-03-06T09:00:00+00:00"), "exa", "search", 50, "0.001"),
    # lead-c (globex), session s3, 2024-03-07: one call times out (its cost still reported).
    Call(
        at("2024-03-07T12:00:00+00:00"),
        "exa",
        "search",
        300,
        "0.010",
        "s3",
        "lead-c",
        "globex",
        request_hash="h1",
    ),
    Call(
        at("2024-03-07T12:00:01+00:00"),
        "openai",
        OPENAI_CHAT,
        600,
        "0.0006",
        "s3",
        "lead-c",
        "globex",
        retries=1,
        model="gpt-4o-mini",
        usage={
            semconv.GEN_AI_USAGE_INPUT_TOKENS: 500,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
        },
    ),
    Call(
        at("2024-03-07T12:00:02+00:00"),
        "openai",
        OPENAI_CHAT,
        5000,
        "0.0001",
        "s3",
        "lead-c",
        "globex",
        status="error",
        error_type="TimeoutError",
        model="gpt-4o-mini",
    ),
    # lead-d (globex), session s4: a search, then an answer served from cache.
    Call(at("2024-03-07T13:00:00+00:00"), "exa", "search", 150, "0.004", "s4", "lead-d", "globex"),
    Call(
        at("2024-03-07T13:00:01+00:00"),
        "openai",
        OPENAI_CHAT,
        1,
        "0",
        "s4",
        "lead-d",
        "globex",
        status="cached",
        model="gpt-4o-mini",
    ),
)


def _spans(calls: tuple[Call, ...]) -> list[ReadableSpan]:
    provider = TracerProvider(resource=Resource.create({"service.name": "analytics-test"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.analytics")
    for call in calls:
        start = int(call.started.timestamp() * 1_000_000_000)
        span = tracer.start_span(call.operation, attributes=call.attributes(), start_time=start)
        if call.status == "error":
            span.set_status(Status(StatusCode.ERROR, call.error_type))
        span.end(end_time=start + call.duration_ms * 1_000_000)
    spans = list(memory.get_finished_spans())
    provider.shutdown()
    return spans


def write_calls(db_path: Path, calls: tuple[Call, ...] = CALLS) -> Path:
    """Export the calls' spans into `db_path` and release the file."""
    exporter = DuckDBSpanExporter(db_path, pricer=NoPrices())
    try:
        assert exporter.open_store()  # creates the table even when there are no calls
        exporter.export(_spans(calls))
        assert exporter.force_flush()
        assert exporter.stats.rows_written == len(calls)
    finally:
        exporter.shutdown()
    return db_path


@pytest.fixture(scope="package")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The known calls in a DuckDB file; tests only read it."""
    return write_calls(tmp_path_factory.mktemp("analytics") / "enrichment_logs.duckdb")


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    """A database with the table and no rows, as a fresh `configure()` leaves it."""
    return write_calls(tmp_path / "empty.duckdb", ())


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
