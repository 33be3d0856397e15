"""A full disk mid-run: the pipeline goes on, each failure is logged once, what cannot be written
anywhere is counted as dropped (never lost silently), and rows land again once space is back.

The disk is filled without privileges: the pipeline process lowers its own RLIMIT_FSIZE to 0, so
the kernel fails every write to a file (EFBIG, where a full disk gives ENOSPC; both are the
OSError the exporter handles). `test_disk_full_volume.py` fills a real volume where it can.
"""

from __future__ import annotations

from tests.faults.pipeline import pipeline_process, table_ids

CALLS_PER_LEAD = 4


def test_a_full_disk_costs_no_call_and_every_lost_row_is_counted(db_path, emulator):
    with pipeline_process(db_path, emulator) as pipeline:
        pipeline.enrich(3)
        pipeline.send({"flush": 10})
        assert pipeline.answer("flushed")["flushed"]

        pipeline.send({"file_size_limit": 0})
        pipeline.answer("file_size_limit")
        pipeline.enrich(4)
        pipeline.send({"flush": 10})
        full = pipeline.answer("flushed")

        pipeline.send({"file_size_limit": None})
        pipeline.answer("file_size_limit")
        pipeline.enrich(2)
        pipeline.send({"shutdown": True})
        final = pipeline.answer("stats")["stats"]
        pipeline.close_input()
        assert pipeline.wait() == 0

    assert [lead["calls"] for lead in pipeline.leads] == [CALLS_PER_LEAD] * 9
    made = emulator.count()
    assert made == 9 * CALLS_PER_LEAD
    assert full["stats"]["rows_dropped"] == 4 * CALLS_PER_LEAD
    assert final["rows_dropped"] == 4 * CALLS_PER_LEAD
    assert final["rows_written"] + final["rows_dropped"] == made
    assert final["rows_pending_in_spool"] == 0
    ids = table_ids(db_path)
    assert len(ids) == len(set(ids)) == 5 * CALLS_PER_LEAD
    log = pipeline.stderr()
    assert log.count("rows are lost") == 1, log  # once for the episode, not once per batch
    assert log.count("writable again") == 1, log
