"""A burst of tool calls far above the export rate, in a process of its own (for a clean RSS).

Run as `python burst_child.py DB_PATH CALLS THREADS MAX_QUEUE_SIZE`; prints one JSON line: how
many calls were made, the exporter's stats after shutdown, the longest time one call spent in
enrichment-logs' `on_end` (measured by a span processor on each side of it), and the process's
resident memory before the burst and at its peak.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

import enrichment_logs as el


class Stopwatch:
    """Per thread: `start` is added before our processors and `stop` after them."""

    def __init__(self) -> None:
        self._started = threading.local()
        self.longest_ns = 0
        self._lock = threading.Lock()
        watch = self

        class Start(SpanProcessor):
            def on_end(self, span: ReadableSpan) -> None:
                watch._started.at = time.perf_counter_ns()

        class Stop(SpanProcessor):
            def on_end(self, span: ReadableSpan) -> None:
                spent = time.perf_counter_ns() - watch._started.at
                if spent > watch.longest_ns:
                    with watch._lock:
                        watch.longest_ns = max(watch.longest_ns, spent)

        self.start, self.stop = Start(), Stop()


def resident_kib(field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (the peak so far) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main(db_path: Path, calls: int, threads: int, max_queue_size: int) -> None:
    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    stopwatch = Stopwatch()
    provider.add_span_processor(stopwatch.start)
    handle = el.configure(db_path, console=False, instrument=False, max_queue_size=max_queue_size)
    provider.add_span_processor(stopwatch.stop)

    @el.tool("exa", "search", cost="0.007")
    def search(query: str) -> dict[str, object]:
        return {"results": [query]}

    def run(worker: int) -> None:
        with el.enrichment_session(lead_id=f"lead-{worker}", company_id="acme"):
            for n in range(calls // threads):
                search(f"acme {worker}-{n}")

    for n in range(200):  # imports, price tables and the database are ready before measuring
        search(f"warm-up {n}")
    assert handle.flush(60)
    stopwatch.longest_ns = 0
    rss_before = resident_kib("VmRSS")
    started = time.perf_counter()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    burst_seconds = time.perf_counter() - started
    peak_kib = resident_kib("VmHWM")
    handle.shutdown()
    made = 200 + calls // threads * threads
    print(
        json.dumps(
            {
                "made": made,
                "burst_seconds": burst_seconds,
                "longest_on_end_ms": stopwatch.longest_ns / 1e6,
                "rss_before_kib": rss_before,
                "rss_peak_kib": peak_kib,
                "stats": asdict(handle.stats),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
