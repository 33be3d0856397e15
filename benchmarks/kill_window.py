"""How long an ended tool call exists only in memory: the window a SIGKILL can lose.

From the moment a call's span ends until its row's spool segment is fsynced, the call lives only
in the process (the batch processor's queue, then the batch being priced and encoded). This
measures that window for every call, at a pipeline's pace and at a fast one, with the exporter
and batch processor `configure()` uses; the spool's `append` is wrapped to note when each
segment became durable.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from benchmarks.workload import enrich_lead, measurement_arguments, run_measurement, write_result
from enrichment_logs.export.batch_processor import SpoolingBatchProcessor
from enrichment_logs.export.exporter import DuckDBSpanExporter

RATES = {"pipeline_pace": (40, 10.0), "fast": (4000, 5.0)}
"""Calls per second and seconds: four calls per lead, ten and a thousand leads a second."""


def _windows(rate: int, seconds: float, scratch: Path) -> list[float]:
    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    exporter = DuckDBSpanExporter(scratch / "window.duckdb")
    windows: list[float] = []
    append = exporter.spool.append

    def timed_append(rows: Sequence[Mapping[str, object]]) -> Path:
        segment = append(rows)
        durable = datetime.now(UTC)
        windows.extend((durable - row["completed_at"]).total_seconds() for row in rows)  # type: ignore[operator]
        return segment

    exporter.spool.append = timed_append  # type: ignore[method-assign]
    provider.add_span_processor(SpoolingBatchProcessor(exporter))
    started = time.perf_counter()
    lead = 0
    while time.perf_counter() < started + seconds:
        due = int((time.perf_counter() - started) * rate / 4)
        while lead < due:
            enrich_lead(lead)
            lead += 1
        time.sleep(0.0005)
    provider.shutdown()
    return windows


def measure(arguments: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        windows = _windows(arguments["rate"], arguments["seconds"], Path(scratch))
    ordered = sorted(windows)
    return {
        "calls": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def run() -> dict[str, Any]:
    return {
        "benchmark": "kill_window",
        **{
            name: {
                "calls_per_second": rate,
                **run_measurement(__name__, {"rate": rate, "seconds": seconds}),
            }
            for name, (rate, seconds) in RATES.items()
        },
    }


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    return write_result(results_dir, "kill_window", run())


if __name__ == "__main__":
    import json

    print(json.dumps(measure(measurement_arguments())))
