"""Shared fixtures: a configured enrichment-logs writing to a fresh DuckDB file per test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import enrichment_logs as el

# Property tests: few examples by default (CI time); HYPOTHESIS_PROFILE=thorough for many more.
# Examples share a configured file, so they are slower than the health check expects.
settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def read_rows(db_path: Path, where: str = "TRUE") -> list[dict[str, Any]]:
    """Every row of the table as dicts, ordered by start time (the writer must be shut down)."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        cursor = connection.execute(
            f"SELECT * FROM enrichment_logs WHERE {where} ORDER BY started_at, id"
        )
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def run_under_opentelemetry_instrument(
    script: Path, db_path: Path, *args: str, **environment: str
) -> None:
    """Run `script` as `opentelemetry-instrument python script args` with the DuckDB exporter."""
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    subprocess.run(
        [str(instrument), sys.executable, str(script), *args],
        env={
            **os.environ,
            "OTEL_TRACES_EXPORTER": "duckdb",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "ENRICHMENT_LOGS_DB_PATH": str(db_path),
            **environment,
        },
        cwd=script.parent,
        check=True,
        timeout=120,
    )


class Logs:
    """A configured handle plus the ways tests read back what it wrote."""

    def __init__(self, db_path: Path, **settings: Any) -> None:
        self.db_path = db_path
        # Instrumentation tests switch the client instrumentations on themselves.
        self.handle = el.configure(db_path, **{"console": False, "instrument": False, **settings})

    def rows(self, where: str = "TRUE") -> list[dict[str, Any]]:
        """Flush, close the writer, and read the table."""
        assert self.handle.flush(), "flush timed out"
        self.handle.shutdown()
        return read_rows(self.db_path, where)


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Logs]:
    configured = Logs(tmp_path / "logs.duckdb")
    yield configured
    configured.handle.shutdown()


@pytest.fixture
def make_logs(tmp_path: Path) -> Iterator[Any]:
    """For tests that need their own settings (content capture, overrides)."""
    made: list[Logs] = []

    def make(**settings: Any) -> Logs:
        made.append(Logs(tmp_path / f"logs{len(made)}.duckdb", **settings))
        return made[-1]

    yield make
    for configured in made:
        configured.handle.shutdown()


_memory = InMemorySpanExporter()


def finished_spans() -> InMemorySpanExporter:
    """From now on, every finished span as the SDK hands it to exporters (after configure())."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    if not getattr(provider, "_test_memory_attached", False):
        provider.add_span_processor(SimpleSpanProcessor(_memory))
        provider._test_memory_attached = True  # type: ignore[attr-defined]
    _memory.clear()
    return _memory


@pytest.fixture
def spans(logs: Logs) -> InMemorySpanExporter:
    """Every finished span, as the OpenTelemetry SDK hands it to exporters."""
    return finished_spans()
