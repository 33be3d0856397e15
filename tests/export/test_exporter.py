"""The exporter never loses or duplicates a row: locks, crashes, replays and bad files."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import sys
import time
import types
from importlib.metadata import entry_points

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from enrichment_logs import semconv
from enrichment_logs.export.duckdb_store import StoreError
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.export.spool import Spool


@pytest.fixture
def calls(make_span, tool_call):
    """Makes `count` distinct finished tool-call spans."""

    def make(count: int, lead: str = "lead-1") -> list[ReadableSpan]:
        return [
            make_span(attributes=tool_call(**{semconv.LEAD_ID: f"{lead}-{n}"}))
            for n in range(count)
        ]

    return make


def _store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("enrichment_logs.export")]


def test_a_batch_written_while_another_process_holds_the_file_lands_once_it_is_released(
    db_path, pricer, calls, table_rows, another_process_holding, caplog
):
    first = DuckDBSpanExporter(db_path, pricer=pricer)
    first.export(calls(2, lead="before"))
    first.shutdown()
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    caplog.set_level(logging.WARNING, logger="enrichment_logs")

    with another_process_holding(db_path):
        results = [exporter.export(calls(5, lead=f"batch{n}")) for n in range(3)]
        flushed = [exporter.force_flush() for _ in range(3)]

        assert results == [SpanExportResult.SUCCESS] * 3
        assert flushed == [False] * 3
        assert len(exporter.spool.segments()) == 3
        assert exporter.stats.rows_pending_in_spool == 15
        assert exporter.stats.store_failures == 3
        (warning,) = _store_warnings(caplog)  # one per episode, not one per attempt
        assert "held by another process" in warning

    assert exporter.force_flush()
    exporter.shutdown()

    rows = table_rows(db_path)
    assert len(rows) == 17
    assert len({row["id"] for row in rows}) == 17
    assert exporter.spool.segments() == []
    assert exporter.stats.rows_written == 15
    assert exporter.stats.rows_pending_in_spool == 0
    assert "writable again" in _store_warnings(caplog)[-1]


def test_exporting_the_same_spans_twice_writes_each_row_once(exporter, calls, db_path, table_rows):
    spans = calls(4)

    exporter.export(spans)
    assert exporter.force_flush()
    exporter.export(spans)
    assert exporter.force_flush()

    assert len(table_rows(db_path)) == 4
    assert exporter.stats.rows_written == 4


def test_segments_left_by_a_crashed_run_are_written_by_the_next_exporter_once(
    db_path, pricer, calls, table_rows
):
    spool = Spool(db_path.with_name(db_path.name + ".spool"))
    for n in range(3):  # what a run leaves behind when it dies between spool and insert
        rows = [span_to_row(span, pricer) for span in calls(2, lead=f"crashed{n}")]
        spool.append([row for row in rows if row is not None])

    restarted = DuckDBSpanExporter(db_path, pricer=pricer)
    assert restarted.force_flush()
    restarted.shutdown()

    assert len(table_rows(db_path)) == 6
    assert restarted.stats.rows_written == 6
    assert restarted.spool.segments() == []


def test_a_corrupt_database_file_is_reported_at_configuration_and_rows_wait_in_the_spool(
    db_path, pricer, calls, caplog
):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"SQLite format 3\x00" + bytes(4096))
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    caplog.set_level(logging.WARNING, logger="enrichment_logs")

    with pytest.raises(StoreError, match="left untouched"):
        exporter.open_store()
    results = [exporter.export(calls(2)) for _ in range(3)]
    exporter.shutdown()

    assert results == [SpanExportResult.SUCCESS] * 3
    assert exporter.stats.rows_pending_in_spool == 6
    opening = [message for message in _store_warnings(caplog) if "left untouched" in message]
    assert len(opening) == 1
    assert "6 rows stay in the spool" in _store_warnings(caplog)[-1]
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_a_spool_that_cannot_be_written_fails_the_export_and_counts_the_rows(
    tmp_path, db_path, pricer, calls, caplog
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    exporter = DuckDBSpanExporter(db_path, spool_dir=blocker / "spool", pricer=pricer)
    caplog.set_level(logging.WARNING, logger="enrichment_logs")

    results = [exporter.export(calls(3)) for _ in range(2)]
    exporter.shutdown()

    assert results == [SpanExportResult.FAILURE] * 2
    assert exporter.stats.rows_dropped == 6
    (warning,) = _store_warnings(caplog)
    assert "rows are lost" in warning


def test_a_segment_the_table_refuses_is_set_aside_and_does_not_block_later_ones(
    exporter, calls, db_path, table_rows, caplog
):
    exporter.spool.append([{"id": "not-a-uuid", "provider": "exa"}])

    assert exporter.export(calls(2)) is SpanExportResult.SUCCESS
    assert exporter.force_flush()

    assert len(table_rows(db_path)) == 2
    assert exporter.stats.rows_dropped == 1
    (rejected,) = exporter.spool.directory.glob("*.rejected")
    assert str(rejected) in caplog.text


def test_everything_the_exporter_creates_is_private_to_the_owner(exporter, calls, db_path):
    exporter.export(calls(1))
    assert exporter.force_flush()

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(exporter.spool.directory.stat().st_mode) == 0o700


def test_the_duckdb_entry_point_works_with_no_arguments(
    tmp_path, monkeypatch, pricer, calls, table_rows
):
    engine = types.ModuleType("enrichment_logs.pricing.engine")
    engine.CostEngine = lambda: pricer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "enrichment_logs.pricing.engine", engine)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENRICHMENT_LOGS_DB_PATH", str(tmp_path / "from-env.duckdb"))
    monkeypatch.delenv("ENRICHMENT_LOGS_SPOOL_DIR", raising=False)
    (entry_point,) = entry_points(group="opentelemetry_traces_exporter", name="duckdb")

    exporter = entry_point.load()()
    exporter.export(calls(2))
    exporter.shutdown()

    assert exporter.spool.directory == tmp_path / "from-env.duckdb.spool"
    assert len(table_rows(tmp_path / "from-env.duckdb")) == 2
    assert len(pricer.calls) == 2
    assert not os.path.exists(tmp_path / "enrichment_logs.duckdb")


def test_the_writer_thread_writes_spooled_rows_without_a_flush(exporter, calls, db_path):
    exporter.export(calls(3))

    deadline = time.monotonic() + 30
    while exporter.stats.rows_written < 3 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert exporter.stats.rows_written == 3
    assert exporter.stats.rows_pending_in_spool == 0
    assert exporter.spool.segments() == []


def test_many_segments_go_in_one_statement_and_a_bad_one_among_them_is_set_aside_alone(
    db_path, pricer, calls, table_rows, caplog
):
    spool = Spool(db_path.with_name(db_path.name + ".spool"))
    for n in range(5):
        rows = [span_to_row(span, pricer) for span in calls(2, lead=f"good{n}")]
        spool.append([row for row in rows if row is not None])
        if n == 2:
            spool.append([{"id": "not-a-uuid", "provider": "exa"}])

    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    assert exporter.force_flush()
    exporter.shutdown()

    assert len(table_rows(db_path)) == 10
    assert exporter.stats.rows_written == 10
    assert exporter.stats.rows_dropped == 1
    assert len(list(spool.directory.glob("*.rejected"))) == 1
    assert spool.segments() == []
