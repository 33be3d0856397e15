"""What one `@tool` call costs the calling thread, against the same function bare and against the
floor: a bare OpenTelemetry SDK span with the same attributes and a no-op exporter, current while
the function runs (as a tool call's span is, so that the HTTP client's spans nest under it).

Measured as the calling thread's own CPU time (`time.thread_time`), which is what the pipeline
pays: waiting for the GIL while the export thread prices and writes rows is not counted, since a
real pipeline spends that time waiting on the network anyway. Wall time is reported beside it.
The modes run interleaved, round by round, in one process; ratios are of medians. Both
providers are flushed, untimed, after every mode's round: one mode's rows are exported during
its own round or in that flush, never while another mode is being timed.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

import enrichment_logs as el
from benchmarks.workload import measurement_arguments, run_measurement, write_result

ROUNDS = 15
CALLS_PER_ROUND = 2000
GOAL_RATIO_TO_FLOOR = 1.5
ENDING = ("enrichment.status", "enrichment.cost", "enrichment.cost.source")
"""Attributes our span gets when the call ends; the floor sets them at its end too."""


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _search(query: str) -> dict[str, Any]:
    return {"results": [query]}


def _tool_attributes() -> dict[str, Any]:
    """The attributes one call of the measured tool ends with, read from the span the tool made
    current (a recording processor would have cost the measured calls a processor call)."""
    spans: list[trace.Span] = []

    def search(query: str) -> dict[str, Any]:
        spans.append(trace.get_current_span())
        return _search(query)

    el.tool("exa", "search", cost="0.007")(search)("acme 0")
    (span,) = spans
    assert isinstance(span, ReadableSpan) and span.end_time is not None
    return dict(span.attributes or {})


def _floors(
    attributes: dict[str, Any], provider: TracerProvider
) -> dict[str, Callable[[str], dict[str, Any]]]:
    """Bare SDK spans with the attributes our span started and ended with, exported by the
    SDK's batch processor to an exporter that does nothing.

    The floor makes its span current while the function runs, as a tool call must (the HTTP
    client's spans inside it are its children), by the leanest means the API has: attach and
    detach, without `start_as_current_span`'s context manager. The span never made current is
    measured beside it, for comparison with earlier runs.
    """
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    tracer = provider.get_tracer("floor")
    at_start = {key: value for key, value in attributes.items() if key not in ENDING}
    at_end = {key: value for key, value in attributes.items() if key in ENDING}

    def floor(query: str) -> dict[str, Any]:
        span = tracer.start_span("exa search", kind=SpanKind.CLIENT, attributes=at_start)
        token = context.attach(trace.set_span_in_context(span))
        try:
            result = _search(query)
        finally:
            context.detach(token)
        span.set_attributes(at_end)
        span.end()
        return result

    def not_current(query: str) -> dict[str, Any]:
        span = tracer.start_span("exa search", kind=SpanKind.CLIENT, attributes=at_start)
        result = _search(query)
        span.set_attributes(at_end)
        span.end()
        return result

    return {"floor_otel_sdk": floor, "floor_span_not_current": not_current}


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
    trace.set_tracer_provider(TracerProvider())
    floor_provider = TracerProvider()
    with tempfile.TemporaryDirectory() as scratch:
        handle = el.configure(Path(scratch) / "calls.duckdb", console=False, instrument=False)
        tool = el.tool("exa", "search", cost="0.007")(_search)
        modes = {
            "bare": _search,
            "enrichment_logs": tool,
            **_floors(_tool_attributes(), floor_provider),
        }
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
                assert handle.flush(600) and floor_provider.force_flush(600_000)
        written = handle.stats.rows_written
        handle.shutdown()
        floor_provider.shutdown()
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    ours = median_cpu["enrichment_logs"]
    return {
        "calls_per_mode": rounds * calls,
        "rows_written": written,
        "cpu_us_per_call": {name: round(value, 2) for name, value in median_cpu.items()},
        "wall_us_per_call": {
            name: round(statistics.median(values), 2) for name, values in wall.items()
        },
        "ratio_to_floor": round(ours / median_cpu["floor_otel_sdk"], 3),
        "ratio_to_span_not_current": round(ours / median_cpu["floor_span_not_current"], 3),
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
