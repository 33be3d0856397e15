"""The DuckDB file held open by another process for the whole run: the pipeline goes on, its
rows wait in the spool, and once the file is released every call lands in the table exactly once."""

from __future__ import annotations

import contextlib

import pytest

from tests.faults.pipeline import pipeline_process, table_ids
from tests.lock_holders import holding

LEADS_WHILE_HELD = 12
CALLS_PER_LEAD = 4  # Firecrawl, Exa, Perplexity, OpenAI


@pytest.mark.parametrize("holder", ["duckdb-cli", "python"])
def test_a_database_held_during_the_run_gets_every_row_once_after_release(
    db_path, emulator, holder
):
    with contextlib.ExitStack() as running:
        with holding(db_path, holder):
            pipeline = running.enter_context(pipeline_process(db_path, emulator))
            held = pipeline.enrich(LEADS_WHILE_HELD)
            pipeline.send({"flush": 1})
            still_held = pipeline.answer("flushed")

            made = LEADS_WHILE_HELD * CALLS_PER_LEAD
            assert emulator.count() == made
            assert all(lead["calls"] == CALLS_PER_LEAD for lead in pipeline.leads)
            assert not still_held["flushed"]
            assert still_held["stats"]["rows_written"] == 0
            assert still_held["stats"]["rows_pending_in_spool"] == made
            assert held["stats"]["rows_dropped"] == 0
        # released while the run goes on: its next batch takes the waiting rows along
        pipeline.enrich(1)
        pipeline.close_input()
        assert pipeline.wait() == 0

    ids = table_ids(db_path)
    assert len(ids) == emulator.count() == made + CALLS_PER_LEAD
    assert len(set(ids)) == len(ids)
    waits = [line for line in pipeline.stderr().splitlines() if "held by another process" in line]
    assert len(waits) == 1, pipeline.stderr()  # once for the episode, not once per batch
    assert "writable again" in pipeline.stderr()
