"""Peak memory of a run of a million tool calls, with `configure()`'s defaults.

One thread makes the calls as fast as it can (four per lead, each lead in a session), in a
process of its own; the figure is the peak resident memory (`VmHWM`) above what the process
held once configured and warm. The run is far faster than the export, so the queue fills: the
peak is bounded by `max_queue_size` (calls beyond it are dropped and counted, as the stats say).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import enrichment_logs as el
from benchmarks.workload import (
    measurement_arguments,
    resident_kib,
    run_measurement,
    tool_calls,
    write_result,
)

CALLS = 1_000_000
QUICK_CALLS = 200_000


def measure(arguments: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        handle = el.configure(Path(scratch) / "million.duckdb", console=False, instrument=False)
        tool_calls(400)
        assert handle.flush(60)
        before = resident_kib()
        started = time.perf_counter()
        tool_calls(arguments["calls"])
        calls_seconds = time.perf_counter() - started
        assert handle.flush(3600)
        total_seconds = time.perf_counter() - started
        peak = resident_kib("VmHWM")
        stats = handle.stats
        handle.shutdown()
    return {
        "calls": arguments["calls"],
        "max_queue_size": handle.settings.max_queue_size,
        "rss_before_mib": round(before / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "peak_growth_mib": round((peak - before) / 1024, 1),
        "calls_seconds": round(calls_seconds, 1),
        "until_written_seconds": round(total_seconds, 1),
        "rows_written": stats.rows_written - 400,
        "rows_dropped": stats.rows_dropped,
    }


def run(calls: int = CALLS) -> dict[str, Any]:
    return {"benchmark": "memory_run", **run_measurement(__name__, {"calls": calls})}


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    return write_result(results_dir, "memory_run", run(QUICK_CALLS if quick else CALLS))


if __name__ == "__main__":
    import json

    print(json.dumps(measure(measurement_arguments())))
