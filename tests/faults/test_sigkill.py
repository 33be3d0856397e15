"""SIGKILL mid-run, then a restart: every call that reached the spool is written exactly once.

SIGKILL gives the process no chance to do anything, so what it can lose is what sits in memory:
tool calls that ended but whose spans the export thread had not yet written to the spool (the
in-memory queue between a span's end and its spool segment's fsync). The benchmark
`kill_window` measures how long a call sits there; this test allows a generous bound for a slow
CI machine and checks that nothing older was lost and that nothing is written twice.
"""

from __future__ import annotations

import shutil
import signal
import time

from enrichment_logs.export.exporter import DuckDBSpanExporter
from tests.faults.pipeline import pipeline_process, rows_per_lead, spooled_rows, table_ids

WINDOW_SECONDS = 1.0
"""Calls that ended longer ago than this before the kill must survive it."""
RUN_SECONDS = WINDOW_SECONDS + 1.0
"""How long the pipeline runs after its first lead before the kill."""


def test_a_killed_run_keeps_every_call_that_reached_the_spool_and_replay_writes_each_once(
    db_path, emulator, tmp_path
):
    spool_dir = db_path.with_name(db_path.name + ".spool")
    with pipeline_process(db_path, emulator) as pipeline:
        pipeline.send({"enrich": 500, "first": 0})  # far more than it gets to do
        first_done = pipeline.answer("lead")["done_at"]
        while time.monotonic() < first_done + RUN_SECONDS:
            pipeline.answer("lead")
        pipeline.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        assert pipeline.wait() == -signal.SIGKILL
        finished = list(pipeline.leads)
    made = emulator.count()

    survivors = {str(row["id"]): row["lead_id"] for row in spooled_rows(spool_dir)}
    kept_before_replay = set(table_ids(db_path)) if db_path.exists() else set()
    survivors.update(dict.fromkeys(kept_before_replay, None))
    assert len(survivors) <= made
    segments = tmp_path / "segments-before-replay"
    shutil.copytree(spool_dir, segments)

    with pipeline_process(db_path, emulator) as restarted:
        restarted.send({"shutdown": True})
        replayed = restarted.answer("stats")["stats"]
    ids = table_ids(db_path)
    assert sorted(ids) == sorted(survivors)  # each survivor once, nothing else
    assert replayed["rows_pending_in_spool"] == 0
    assert replayed["rows_dropped"] == 0

    per_lead = rows_per_lead(db_path)
    settled = [lead for lead in finished if lead["done_at"] < killed_at - WINDOW_SECONDS]
    assert settled
    for lead in settled:
        assert per_lead.get(lead["lead"]) == lead["calls"], lead

    # a crash between commit and segment removal replays segments already written: no-op
    for segment in segments.glob("*.jsonl"):
        shutil.copy(segment, spool_dir / segment.name)
    again = DuckDBSpanExporter(db_path)
    assert again.force_flush()
    again.shutdown()
    assert again.stats.rows_written == 0
    assert sorted(table_ids(db_path)) == sorted(ids)
