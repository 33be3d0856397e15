"""A burst of tool calls from many threads is written completely, or counted when it cannot be."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from enrichment_logs import semconv
from enrichment_logs.export.batch_processor import SpoolingBatchProcessor


def _end_calls(tracer, tool_call, count: int, lead: str) -> None:
    for n in range(count):
        with tracer.start_as_current_span(
            "call", attributes=tool_call(**{semconv.LEAD_ID: f"{lead}-{n}"})
        ):
            pass


def _exit_code(pid: int, timeout: float) -> int | None:
    """The child's exit code, or None (and the child killed) if it is still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def test_twenty_thousand_calls_from_four_threads_are_all_written_once(
    provider, tracer, tool_call, exporter, db_path, table_rows
):
    processor = SpoolingBatchProcessor(exporter)
    provider.add_span_processor(processor)
    threads = [
        threading.Thread(target=_end_calls, args=(tracer, tool_call, 5_000, f"thread{n}"))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert processor.force_flush(timeout_millis=60_000)
    rows = table_rows(db_path)
    assert len(rows) == 20_000
    assert len({row["lead_id"] for row in rows}) == 20_000
    assert processor.dropped == 0
    assert exporter.stats.rows_written == 20_000


def test_only_tool_calls_are_queued(provider, tracer, exporter, db_path, table_rows, tool_call):
    processor = SpoolingBatchProcessor(exporter)
    provider.add_span_processor(processor)

    with tracer.start_as_current_span("session", attributes={semconv.SPAN_TYPE: "session"}):
        with tracer.start_as_current_span("GET /"):
            pass
        with tracer.start_as_current_span("call", attributes=tool_call()):
            pass

    assert processor.force_flush()
    assert len(table_rows(db_path)) == 1


def test_a_full_queue_drops_and_counts_instead_of_blocking_the_pipeline(
    provider, tracer, tool_call, exporter, db_path, table_rows, caplog
):
    caplog.set_level(logging.WARNING, logger="enrichment_logs")
    processor = SpoolingBatchProcessor(
        exporter, max_queue_size=10, max_batch_size=1_000, schedule_delay_millis=60_000
    )
    provider.add_span_processor(processor)

    _end_calls(tracer, tool_call, 100, "burst")  # 10 fit, and what the worker drains meanwhile

    assert processor.dropped >= 50
    assert processor.force_flush()
    assert len(table_rows(db_path)) + processor.dropped == 100  # each call a row or counted
    assert exporter.stats.rows_dropped == processor.dropped
    warnings = [r.getMessage() for r in caplog.records if "queue is full" in r.getMessage()]
    assert len(warnings) == 1


def test_shutdown_writes_what_is_still_queued_and_closes_the_file(
    provider, tracer, tool_call, exporter, db_path, table_rows
):
    processor = SpoolingBatchProcessor(exporter, schedule_delay_millis=60_000)
    provider.add_span_processor(processor)
    _end_calls(tracer, tool_call, 7, "late")

    processor.shutdown()

    assert len(table_rows(db_path)) == 7  # the file is free: the exporter closed it


def test_a_forked_worker_spools_and_the_parent_writes_its_rows(
    provider, tracer, tool_call, exporter, db_path, table_rows
):
    processor = SpoolingBatchProcessor(exporter)
    provider.add_span_processor(processor)
    _end_calls(tracer, tool_call, 3, "parent")
    assert processor.force_flush()  # the parent now holds the database open

    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            _end_calls(tracer, tool_call, 4, "child")
            processor.force_flush()  # spools only: the parent owns the file
        finally:
            os._exit(0)

    assert _exit_code(child, timeout=30) == 0
    assert processor.force_flush()
    leads = sorted(row["lead_id"] for row in table_rows(db_path))
    assert leads == [f"child-{n}" for n in range(4)] + [f"parent-{n}" for n in range(3)]
