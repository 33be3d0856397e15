"""Added latency per OpenAI call: enrichment-logs vs no instrumentation vs the official one.

All three run in one process against the local emulator, interleaved round by round (so a noisy
neighbour hits every mode alike), and are reported as medians and ratios, not absolute goals.
enrichment-logs does more per call than the official instrumentation (it also prices the call
and writes a DuckDB row, in its export thread), so the ratio that matters is the time it adds to
the caller's call against the time the official instrumentation adds. Each instrumentation is
set up once, as in a running pipeline, and switched on for its rounds only.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import openai
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OfficialInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import enrichment_logs as el
from benchmarks.workload import emulator_process
from enrichment_logs.instrumentation.openai import OpenAIInstrumentor

ROUNDS = 30
CALLS_PER_ROUND = 200


class _DiscardingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@contextmanager
def _bare() -> Iterator[None]:
    yield


def _ours(handle: el.EnrichmentLogs) -> Callable[[], AbstractContextManager[None]]:
    """Our OpenAI instrumentation on for a round, over a pipeline configured once (as a pipeline
    runs: `configure()` at start-up, not per call). The round's rows are written after its
    timed calls, so no round pays another round's export."""

    @contextmanager
    def mode() -> Iterator[None]:
        OpenAIInstrumentor().instrument()
        try:
            yield
        finally:
            OpenAIInstrumentor().uninstrument()
            handle.flush()

    return mode


def _official() -> Callable[[], AbstractContextManager[None]]:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_DiscardingExporter()))

    @contextmanager
    def mode() -> Iterator[None]:
        OfficialInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        try:
            yield
        finally:
            OfficialInstrumentor().uninstrument()  # type: ignore[no-untyped-call]

    return mode


def _time_calls(client: Any, count: int) -> list[float]:
    timings = []
    for n in range(count):
        started = time.perf_counter()
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"Lead {n}: who?"}]
        )
        timings.append(time.perf_counter() - started)
    return timings


def run(rounds: int = ROUNDS, calls: int = CALLS_PER_ROUND) -> dict[str, Any]:
    with emulator_process() as base_url, tempfile.TemporaryDirectory() as scratch:
        client = openai.OpenAI(api_key="k", base_url=f"{base_url}/openai/v1", max_retries=0)
        handle = el.configure(
            Path(scratch) / "bench.duckdb",
            console=False,
            provider_routes={base_url: "openai"},
            instrument=False,
        )
        modes = {
            "uninstrumented": _bare,
            "enrichment_logs": _ours(handle),
            "official_openai_v2": _official(),
        }
        _time_calls(client, 50)  # warm connections, imports and price lookups
        per_round: dict[str, list[float]] = {name: [] for name in modes}
        order = list(modes)
        for _ in range(rounds):
            random.shuffle(order)
            for name in order:
                with modes[name]():
                    per_round[name].append(statistics.median(_time_calls(client, calls)))
        handle.shutdown()
    # Each round's median against the same round's uninstrumented median: the emulator's own
    # speed drifts over a run by more than the overhead being measured.
    bare = per_round["uninstrumented"]
    instrumented = [name for name in modes if name != "uninstrumented"]
    added = {
        name: statistics.median(m - b for m, b in zip(per_round[name], bare, strict=True))
        for name in instrumented
    }
    medians = {name: statistics.median(values) for name, values in per_round.items()}
    return {
        "benchmark": "openai_overhead",
        "calls_per_mode": rounds * calls,
        "median_call_us": {name: round(value * 1e6, 1) for name, value in medians.items()},
        "ratio_to_uninstrumented": {
            name: round(
                statistics.median(m / b for m, b in zip(per_round[name], bare, strict=True)), 4
            )
            for name in instrumented
        },
        "added_us": {name: round(value * 1e6, 1) for name, value in added.items()},
        "added_ours_over_added_official": round(
            added["enrichment_logs"] / added["official_openai_v2"], 3
        )
        if added["official_openai_v2"] > 0
        else None,
    }


def main(results_dir: Path) -> dict[str, Any]:
    result = run()
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "openai_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
