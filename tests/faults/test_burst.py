"""50 000 tool calls from four threads in a few seconds, far above the export rate and ten times
the queue: the calling threads never wait for the exporter, memory is bounded by the queue, and
every call is either written or counted as dropped (within the default queue of 100 000 nothing
is dropped: `tests/export/test_batch_processor.py`).

Each burst runs in a process of its own (`burst_child.py`), so its resident memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import read_rows

CALLS = 50_000
THREADS = 4
CHILD = Path(__file__).with_name("burst_child.py")
LONGEST_ON_END_MS = 1000
"""No wait for the exporter: a blocked `on_end` would wait for the queue to drain (seconds). A
few tens of ms happen anyway: five threads share one GIL (5 ms turns) and the garbage collector
stops every thread now and then."""
KIB_PER_QUEUED_SPAN = 6  # measured: about 5


def burst(db_path: Path, max_queue_size: int) -> tuple[dict[str, Any], str]:
    finished = subprocess.run(
        [sys.executable, str(CHILD), str(db_path), str(CALLS), str(THREADS), str(max_queue_size)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(finished.stdout), finished.stderr


@pytest.mark.slow
def test_a_burst_beyond_the_queue_drops_and_counts_with_memory_bounded_by_the_queue(tmp_path):
    db_path = tmp_path / "burst.duckdb"
    max_queue_size = 5_000

    result, log = burst(db_path, max_queue_size)

    stats = result["stats"]
    assert stats["rows_dropped"] > 0
    assert stats["rows_written"] + stats["rows_dropped"] == result["made"]
    assert stats["rows_pending_in_spool"] == 0
    assert len(read_rows(db_path)) == stats["rows_written"]
    assert result["longest_on_end_ms"] < LONGEST_ON_END_MS
    grown_kib = result["rss_peak_kib"] - result["rss_before_kib"]
    unbounded_kib = CALLS * KIB_PER_QUEUED_SPAN
    assert grown_kib < unbounded_kib / 2, grown_kib  # holding every span would need all of it
    overflows = log.count("export queue is full")
    assert 1 <= overflows <= log.count("has room again") + 1  # per episode, not per span
    assert overflows < 20
