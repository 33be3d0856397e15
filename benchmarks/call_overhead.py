"""What one `@tool` call costs the calling thread, against the same function bare and against the
floor: a bare OpenTelemetry SDK span with the same attributes and a no-op exporter.

Measured as the calling thread's own CPU time (`time.thread_time`), which is what the pipeline
pays: waiting for the GIL while the export thread prices and writes rows is not counted, since a
real pipeline spends that time waiting on the network anyway. Wall time is reported beside it.
The three modes run interleaved, round by round, in one process; ratios are of medians.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import enrichment_logs as el
from benchmarks.workload import measurement_arguments, run_measurement, write_result

ROUNDS = 15
CALLS_PER_ROUND = 2000
GOAL_RATIO_TO_FLOOR = 1.5


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Last(SpanProcessor):
    """Remembers the last span our tool ended, to give the floor the same attributes."""

    span: ReadableSpan | None = None

    def on_end(self, span: ReadableSpan) -> None:
        self.span = span


def _search(query: str) -> dict[str, Any]:
    return {"results": [query]}


def _floor(tool_span: ReadableSpan) -> Callable[[str], dict[str, Any]]:
    """A bare SDK span with the attributes our span started and ended with, exported by the
    SDK's batch processor to an exporter that does nothing."""
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    tracer = provider.get_tracer("floor")
    ending = ("enrichment.status", "enrichment.cost", "enrichment.cost.source")
    attributes = dict(tool_span.attributes or {})
    at_start = {key: value for key, value in attributes.items() if key not in ending}
    at_end = {key: value for key, value in attributes.items() if key in ending}

    def floor(query: str) -> dict[str, Any]:
        span = tracer.start_span("exa search", attributes=at_start)
        result = _search(query)
        span.set_attributes(at_end)
        span.end()
        return result

    return floor


def _timed(function: Callable[[str], Any], calls: int) -> tuple[float, float]:
    """Median-free totals: CPU and wall microseconds per call over `calls` calls."""
    cpu, wall = time.thread_time(), time.perf_counter()
    for n in range(calls):
        function(f"acme {n}")
    return (
        (time.thread_time() - cpu) / calls * 1e6,
        (time.perf_counter() - wall) / calls * 1e6,
    )


def measure(arguments: dict[str, Any]) -> dict[str, Any]:
    rounds, calls = arguments["rounds"], arguments["calls"]
    provider = TracerProvider()
    last = _Last()
    provider.add_span_processor(last)
    trace.set_tracer_provider(provider)
    with tempfile.TemporaryDirectory() as scratch:
        handle = el.configure(Path(scratch) / "calls.duckdb", console=False, instrument=False)
        tool = el.tool("exa", "search", cost="0.007")(_search)
        _timed(tool, 500)
        assert last.span is not None
        modes = {"bare": _search, "enrichment_logs": tool, "floor_otel_sdk": _floor(last.span)}
        for function in modes.values():
            _timed(function, 500)
        cpu: dict[str, list[float]] = {name: [] for name in modes}
        wall: dict[str, list[float]] = {name: [] for name in modes}
        order = list(modes)
        for _ in range(rounds):
            random.shuffle(order)
            for name in order:
                spent, elapsed = _timed(modes[name], calls)
                cpu[name].append(spent)
                wall[name].append(elapsed)
        assert handle.flush(600)
        written = handle.stats.rows_written
        handle.shutdown()
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = median_cpu["enrichment_logs"] / median_cpu["floor_otel_sdk"]
    return {
        "calls_per_mode": rounds * calls,
        "rows_written": written,
        "cpu_us_per_call": {name: round(value, 2) for name, value in median_cpu.items()},
        "wall_us_per_call": {
            name: round(statistics.median(values), 2) for name, values in wall.items()
        },
        "ratio_to_floor": round(ratio, 3),
    }


def run(rounds: int = ROUNDS, calls: int = CALLS_PER_ROUND) -> dict[str, Any]:
    result = run_measurement(__name__, {"rounds": rounds, "calls": calls})
    return {
        "benchmark": "call_overhead",
        **result,
        "goal_ratio_to_floor": GOAL_RATIO_TO_FLOOR,
        "goal_met": result["ratio_to_floor"] <= GOAL_RATIO_TO_FLOOR,
    }


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    rounds = 5 if quick else ROUNDS
    return write_result(results_dir, "call_overhead", run(rounds))


if __name__ == "__main__":
    import json

    print(json.dumps(measure(measurement_arguments())))
