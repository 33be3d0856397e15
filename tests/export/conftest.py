"""Fixtures for the export layer: real spans from an SDK `TracerProvider`, real DuckDB files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from enrichment_logs import semconv
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.pricing.usage import Cost, Usage
from tests.lock_holders import holding

SERVICE = "enrichment-pipeline-test"
PRICE_PER_INPUT_TOKEN = Decimal("0.000002")


class FakePricer:
    """Prices input tokens at a fixed rate and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Usage, datetime]] = []

    def price(self, provider: str, operation: str, usage: Usage, at: datetime) -> Cost:
        self.calls.append((provider, operation, usage, at))
        if usage.input_tokens is None:
            return Cost(None, "unknown", reason=f"no price for {provider} {operation}")
        return Cost(usage.input_tokens * PRICE_PER_INPUT_TOKEN, "price_table", "test-v1")


SpanFactory = Callable[..., ReadableSpan]


@pytest.fixture
def pricer() -> FakePricer:
    return FakePricer()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "enrichment_logs.duckdb"


@pytest.fixture
def exporter(db_path: Path, pricer: FakePricer) -> Iterator[DuckDBSpanExporter]:
    made = DuckDBSpanExporter(db_path, pricer=pricer)
    yield made
    made.shutdown()


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    made = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    yield made
    made.shutdown()


@pytest.fixture
def finished(provider: TracerProvider) -> InMemorySpanExporter:
    """Every span the provider ends, as the SDK hands it to exporters."""
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@pytest.fixture
def tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer("tests.export")


@pytest.fixture
def make_span(tracer: Tracer, finished: InMemorySpanExporter) -> SpanFactory:
    """Ends one real SDK span with these attributes (raising `raises` inside it, if given)."""

    def make(
        name: str = "tool call",
        *,
        raises: Exception | None = None,
        attributes: Mapping[str, AttributeValue],
    ) -> ReadableSpan:
        finished.clear()
        with (
            contextlib.suppress(Exception),
            tracer.start_as_current_span(name, attributes=attributes),
        ):
            if raises is not None:
                raise raises
        (span,) = finished.get_finished_spans()
        return span

    return make


def _tool_call(**overrides: AttributeValue) -> dict[str, AttributeValue]:
    """Attributes of an OpenAI chat call as our instrumentation sets them."""
    attributes: dict[str, AttributeValue] = {
        semconv.SPAN_TYPE: "tool_call",
        semconv.PROVIDER: "openai",
        semconv.OPERATION: "chat.completions.create",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1200,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 300,
        semconv.LEAD_ID: "lead-1",
        semconv.COMPANY_ID: "acme",
    }
    attributes.update(overrides)
    return attributes


def _table_rows(db_path: Path, where: str = "TRUE") -> list[dict[str, Any]]:
    """The table as dicts; timestamps as UTC text (reading TIMESTAMPTZ as datetime needs pytz)."""
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        cursor = connection.execute(
            "SELECT * REPLACE (strftime(started_at, '%Y-%m-%dT%H:%M:%S.%f') AS started_at, "
            "strftime(completed_at, '%Y-%m-%dT%H:%M:%S.%f') AS completed_at) "
            f"FROM enrichment_logs WHERE {where} ORDER BY started_at, id"
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _table_columns(db_path: Path) -> list[str]:
    with duckdb.connect(str(db_path)) as connection:
        return [row[0] for row in connection.execute("DESCRIBE enrichment_logs").fetchall()]


# Helpers as fixtures: test modules here are plain modules, so they cannot import this file.
@pytest.fixture
def tool_call() -> Callable[..., dict[str, AttributeValue]]:
    return _tool_call


@pytest.fixture
def table_rows() -> Callable[..., list[dict[str, Any]]]:
    return _table_rows


@pytest.fixture
def table_columns() -> Callable[[Path], list[str]]:
    return _table_columns


@pytest.fixture
def another_process_holding() -> Callable[..., contextlib.AbstractContextManager[None]]:
    return holding
