"""How fast tool calls become rows: the exporter's sustained rate, and the call rate a pipeline
can keep up for a minute without the backlog growing.

1. Sustained export rate: finished spans of the four providers' tool calls (made beforehand,
   not timed) go through the real `DuckDBSpanExporter` (mapping and pricing, spool, DuckDB,
   publishing to the readers' lake) in the batch processor's batches of 2048, in one process.
   Mapping alone (`span_to_row` with the real cost engine) is timed too, on the same spans.
2. Largest call rate held: `configure()` as a pipeline uses it, one thread making paced tool
   calls at a target rate for `window_seconds` (60 in `make bench`); the rate is held when the
   calls were made on time, nothing was dropped and the backlog (calls made but not yet rows)
   stayed under one second of calls plus what the writer thread holds back by design (rows wait
   in the spool up to `INGEST_INTERVAL_SECONDS` between inserts). Rates double until one is not
   held, then the midpoint between the last two is tried.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

import enrichment_logs as el
from benchmarks.workload import (
    TOOLS,
    enrich_lead,
    measurement_arguments,
    run_measurement,
    tool_calls,
    write_result,
)
from enrichment_logs.export.exporter import INGEST_INTERVAL_SECONDS, DuckDBSpanExporter
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.pricing.engine import CostEngine

ROWS = 200_000
CHUNK = 20_000
"""Spans are made and exported chunk by chunk, so memory holds one chunk of spans at a time."""
BATCH = 2048
GOAL_ROWS_PER_SECOND = 50_000
WINDOW_SECONDS = 60.0
QUICK_WINDOW_SECONDS = 10.0


class _Capture(SpanProcessor):
    """Keeps finished spans while `spans` is a list."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


def _spans(capture: _Capture, count: int, first_lead: int) -> list[ReadableSpan]:
    capture.spans = []
    for n in range(first_lead, first_lead + count // len(TOOLS)):
        enrich_lead(n)
    return [
        span for span in capture.spans if span.attributes and "enrichment.log_id" in span.attributes
    ]


def _export_rate(rows: int, scratch: Path) -> dict[str, Any]:
    capture = _Capture()
    provider = TracerProvider()
    provider.add_span_processor(capture)
    trace.set_tracer_provider(provider)
    exporter = DuckDBSpanExporter(scratch / "export.duckdb")
    tool_calls(400)  # imports and price lookups warm
    exported = export_seconds = 0.0
    mapping_seconds, mapped = 0.0, 0
    engine = CostEngine()
    for first in range(0, rows, CHUNK):
        spans = _spans(capture, CHUNK, first // len(TOOLS))
        if first == 0:
            started = time.perf_counter()
            for span in spans:
                span_to_row(span, engine)
            mapping_seconds, mapped = time.perf_counter() - started, len(spans)
        started = time.perf_counter()
        for start in range(0, len(spans), BATCH):
            exporter.export(spans[start : start + BATCH])
        export_seconds += time.perf_counter() - started
        exported += len(spans)
    started = time.perf_counter()
    assert exporter.force_flush(600_000)
    export_seconds += time.perf_counter() - started
    exporter.shutdown()
    assert exporter.stats.rows_written == exported, exporter.stats
    return {
        "rows": int(exported),
        "rows_per_second": round(exported / export_seconds),
        "mapping_only_rows_per_second": round(mapped / mapping_seconds),
    }


def _hold(rate: int, window_seconds: float, handle: el.EnrichmentLogs) -> dict[str, Any]:
    """Paced calls at `rate` per second for the window; the backlog is sampled every second."""
    before = handle.stats
    made = 0
    backlog: list[int] = []
    started = time.perf_counter()
    next_sample = started + 1
    lead = 10_000_000 + rate  # fresh ids per rate
    while (now := time.perf_counter()) < started + window_seconds:
        due = int((now - started) * rate)
        while made < due:
            enrich_lead(lead)
            lead += 1
            made += len(TOOLS)
        if now >= next_sample:
            written = handle.stats.rows_written - before.rows_written
            backlog.append(made - written)
            next_sample += 1
        time.sleep(0.001)
    behind = int(window_seconds * rate) - made
    stats = handle.stats
    dropped = stats.rows_dropped - before.rows_dropped
    assert handle.flush(600)
    allowed_backlog = rate * (1 + INGEST_INTERVAL_SECONDS)
    held = (
        behind <= rate * 0.05 and dropped == 0 and max(backlog[-3:], default=0) <= allowed_backlog
    )
    return {
        "calls_per_second": rate,
        "held": held,
        "calls_made": made,
        "calls_behind_schedule": max(behind, 0),
        "dropped": dropped,
        "largest_backlog_calls": max(backlog, default=0),
        "last_backlog_calls": backlog[-1] if backlog else 0,
    }


def _largest_held_rate(window_seconds: float, scratch: Path) -> dict[str, Any]:
    trace.set_tracer_provider(TracerProvider())
    handle = el.configure(scratch / "held.duckdb", console=False, instrument=False)
    try:
        tool_calls(400)
        assert handle.flush(60)
        tried: list[dict[str, Any]] = []
        rate = 1000
        while True:
            tried.append(_hold(rate, window_seconds, handle))
            if not tried[-1]["held"]:
                break
            rate *= 2
        if len(tried) > 1:
            tried.append(_hold((rate + rate // 2) // 2, window_seconds, handle))
    finally:
        handle.shutdown()
    held = [attempt["calls_per_second"] for attempt in tried if attempt["held"]]
    return {
        "window_seconds": window_seconds,
        "largest_held_calls_per_second": max(held, default=0),
        "attempts": tried,
    }


def measure(arguments: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        if arguments["part"] == "export":
            return _export_rate(arguments["rows"], Path(scratch))
        return _largest_held_rate(arguments["window_seconds"], Path(scratch))


def run(rows: int = ROWS, window_seconds: float = WINDOW_SECONDS) -> dict[str, Any]:
    export = run_measurement(__name__, {"part": "export", "rows": rows})
    held = run_measurement(__name__, {"part": "held", "window_seconds": window_seconds})
    return {
        "benchmark": "export_rate",
        "sustained_export": export,
        "goal_rows_per_second": GOAL_ROWS_PER_SECOND,
        "goal_met": export["rows_per_second"] >= GOAL_ROWS_PER_SECOND,
        "held_call_rate": held,
    }


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    """`quick`: 10 s per tried rate instead of 60, fewer rows (a check, not the README's figure)."""
    window = QUICK_WINDOW_SECONDS if quick else WINDOW_SECONDS
    return write_result(results_dir, "export_rate", run(ROWS // 4 if quick else ROWS, window))


if __name__ == "__main__":
    import json

    print(json.dumps(measure(measurement_arguments())))
