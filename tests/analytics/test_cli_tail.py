"""`enrichment-logs tail`: the latest calls, then each new call once, as the writer publishes it."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from enrichment_logs import semconv
from enrichment_logs.export.exporter import DuckDBSpanExporter
from tests.analytics.cli_runs import run
from tests.analytics.conftest import NoPrices

COMMAND = Path(sys.executable).with_name("enrichment-logs")


@pytest.fixture
def finished_calls() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield provider, memory
    provider.shutdown()


def _calls(
    made: tuple[TracerProvider, InMemorySpanExporter], lead: str, count: int
) -> list[ReadableSpan]:
    provider, memory = made
    memory.clear()
    for n in range(count):
        attributes = {
            semconv.SPAN_TYPE: "tool_call",
            semconv.PROVIDER: "firecrawl",
            semconv.OPERATION: "scrape",
            semconv.STATUS: "success",
            semconv.LEAD_ID: f"{lead}-{n}",
        }
        provider.get_tracer("tail").start_span("scrape", attributes=attributes).end()
    return list(memory.get_finished_spans())


class Lines:
    """A process's stdout, line by line as it prints them, with a bounded wait for each."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line)

    def next(self, timeout: float = 20.0) -> str:
        return self._lines.get(timeout=timeout)

    def rest(self) -> list[str]:
        self._reader.join(timeout=20)
        return list(self._lines.queue)


def test_follow_prints_each_new_call_once_while_the_writer_holds_the_file(
    tmp_path: Path, finished_calls: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    db = tmp_path / "live.duckdb"
    exporter = DuckDBSpanExporter(db, pricer=NoPrices(), publish_interval_seconds=0.05)
    try:
        exporter.export(_calls(finished_calls, "before", 5))
        assert exporter.force_flush()
        tail = subprocess.Popen(
            [
                str(COMMAND),
                "tail",
                "--db",
                str(db),
                "-n",
                "2",
                "--follow",
                "--interval",
                "0.1",
                "--max-seconds",
                "3",
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            lines = Lines(tail)
            latest = [json.loads(lines.next())["lead_id"] for _ in range(2)]
            started = time.monotonic()
            for batch in range(3):
                exporter.export(_calls(finished_calls, f"batch{batch}", 4))
                time.sleep(0.2)
            assert exporter.force_flush()
            landed = [json.loads(lines.next())["lead_id"] for _ in range(12)]
            assert time.monotonic() - started < 3
            assert tail.wait(timeout=20) == 0  # it stops after --max-seconds
            assert tail.stderr is not None
            out, err = lines.rest(), tail.stderr.read()
        finally:
            if tail.poll() is None:
                tail.kill()
                tail.wait(timeout=20)
    finally:
        exporter.shutdown()

    assert (out, err) == ([], "")  # each new call once, and nothing else
    assert set(latest) <= {f"before-{n}" for n in range(5)}
    assert sorted(landed) == sorted(f"batch{b}-{n}" for b in range(3) for n in range(4))
    assert exporter.stats.store_failures == 0


def test_without_follow_the_latest_calls_are_lines_of_80_columns(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "tail", "--db", str(db), "-n", "3")

    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 3
    assert all(len(line) <= 80 for line in lines)
    assert lines[-1].split()[1:] == [
        "openai",
        "chat.completions.create",
        "cached",
        "1ms",
        "$0.000000",
        "lead-d",
    ]
    assert lines[0].split()[1:5] == ["openai", "chat.completions.create", "error", "5000ms"]


def test_filters_pick_the_calls_followed(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "tail", "--db", str(db), "-n", "9", "--lead", "lead-b", "--format", "json"
    )

    calls = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(call["provider"], call["status"]) for call in calls] == [
        ("exa", "success"),
        ("openai", "error"),
        ("perplexity", "success"),
    ]
