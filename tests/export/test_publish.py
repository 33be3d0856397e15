"""The writer publishes its table as Parquet, one file per UTC day, for readers that must not
open the live DuckDB file: every row once, never a half-written file, whatever happens."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from enrichment_logs import semconv
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.export.spool import Spool

DAY_1 = datetime(2024, 3, 4, tzinfo=UTC)
DAY_2 = datetime(2024, 3, 5, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def calls_on(
    tracer: Tracer, finished: InMemorySpanExporter, tool_call
) -> Callable[..., list[ReadableSpan]]:
    """Makes `count` finished tool-call spans that started on `day` (UTC), a second apart."""

    def make(day: datetime, count: int, lead: str = "lead") -> list[ReadableSpan]:
        finished.clear()
        for n in range(count):
            start = int((day + timedelta(seconds=n)).timestamp() * 1e9)
            attributes = tool_call(**{semconv.LEAD_ID: f"{lead}-{n}"})
            tracer.start_span("tool call", attributes=attributes, start_time=start).end(
                end_time=start + 5_000_000
            )
        return list(finished.get_finished_spans())

    return make


def _published(directory: Path) -> tuple[int, int]:
    """What a reader of the published files sees (a fresh in-memory DuckDB, no lock)."""
    with duckdb.connect() as reader:
        found = reader.execute(
            "SELECT count(*), count(DISTINCT id) "
            f"FROM read_parquet('{directory}/*.parquet', union_by_name = true)"
        ).fetchone()
    assert found is not None
    return found[0], found[1]


def _publish_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.export.publish"]


def test_each_day_is_published_once_with_the_tables_columns_and_private_modes(
    db_path, pricer, calls_on
):
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    day_2_calls = calls_on(DAY_2, 2, "b")
    exporter.export(calls_on(DAY_1, 3, "a") + day_2_calls)
    exporter.export(day_2_calls)  # the same calls again: still once
    exporter.shutdown()

    directory = db_path.with_name(db_path.name + ".parquet")
    assert sorted(path.name for path in directory.iterdir()) == [
        "enrichment_logs-2024-03-04.parquet",
        "enrichment_logs-2024-03-05.parquet",
    ]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()} == {0o600}
    with duckdb.connect(str(db_path), read_only=True) as table:
        table.execute("SET TimeZone = 'UTC'")
        expected = table.execute("SELECT * FROM enrichment_logs ORDER BY id").fetchall()
        columns = table.execute("DESCRIBE enrichment_logs").fetchall()
    with duckdb.connect() as reader:
        reader.execute("SET TimeZone = 'UTC'")
        source = f"read_parquet('{directory}/*.parquet', union_by_name = true)"
        assert reader.execute(f"SELECT * FROM {source} ORDER BY id").fetchall() == expected
        described = reader.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        day_2 = reader.execute(
            f"SELECT count(*) FROM '{directory}/enrichment_logs-2024-03-05.parquet'"
        ).fetchone()
    assert [(name, kind) for name, kind, *_ in described] == [
        (name, kind) for name, kind, *_ in columns
    ]
    assert len(expected) == 5
    assert day_2 == (2,)


def test_only_a_day_that_changed_is_rewritten(db_path, pricer, calls_on):
    directory = db_path.parent / "published"
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_dir=directory)
    exporter.export(calls_on(DAY_1, 2, "a") + calls_on(DAY_2, 2, "b"))
    assert exporter.force_flush()
    day_1 = (directory / "enrichment_logs-2024-03-04.parquet").stat()
    day_2 = (directory / "enrichment_logs-2024-03-05.parquet").stat()

    exporter.export(calls_on(DAY_2, 3, "c"))
    exporter.shutdown()

    assert (directory / "enrichment_logs-2024-03-04.parquet").stat().st_ino == day_1.st_ino
    assert (directory / "enrichment_logs-2024-03-05.parquet").stat().st_ino != day_2.st_ino
    assert _published(directory) == (7, 7)


def test_publishing_waits_for_its_interval_between_batches_and_flush_publishes_the_rest(
    db_path, pricer, calls_on
):
    directory = db_path.with_name(db_path.name + ".parquet")
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_interval_seconds=3600)
    try:
        exporter.export(calls_on(DAY_1, 2, "a"))
        exporter.export(calls_on(DAY_1, 3, "b"))
        exporter.export(calls_on(DAY_2, 1, "c"))

        assert _published(directory) == (2, 2)  # the first batch, then an hour's wait
        assert exporter.force_flush()
        assert _published(directory) == (6, 6)
    finally:
        exporter.shutdown()


def test_a_reader_keeping_its_connection_sees_whole_batches_only_while_the_writer_writes(
    db_path, pricer, calls_on
):
    """Batches of 20 rows into one day, published every few milliseconds; a reader's count is
    always a whole number of batches, never a half-written file or a duplicated row."""
    directory = db_path.with_name(db_path.name + ".parquet")
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_interval_seconds=0.001)
    batches = [calls_on(DAY_1 + timedelta(minutes=n), 20, f"batch{n}") for n in range(30)]
    exporter.export(batches[0])
    writer_failed: list[BaseException] = []

    def write() -> None:
        try:
            for batch in batches[1:]:
                exporter.export(batch)
                time.sleep(0.03)
        except BaseException as exc:  # reported by the test, not lost in the thread
            writer_failed.append(exc)

    writer = threading.Thread(target=write)
    seen: list[tuple[int, int]] = []
    count_rows = f"SELECT count(*), count(DISTINCT id) FROM '{directory}/*.parquet'"
    with duckdb.connect() as reader:  # one connection for the whole test, as Grafana keeps one
        writer.start()
        while writer.is_alive() or len(seen) < 5:
            count, distinct = reader.execute(count_rows).fetchone() or (-1, -1)
            seen.append((count, distinct))
        writer.join()
        exporter.shutdown()
        final = reader.execute(f"SELECT count(*) FROM '{directory}/*.parquet'").fetchone()

    assert not writer_failed
    assert final == (600,)
    assert all(count == distinct and count % 20 == 0 for count, distinct in seen)
    assert [count for count, _ in seen] == sorted(count for count, _ in seen)
    assert len({count for count, _ in seen}) >= 2  # the reader really saw the files change


_CRASHING_WRITER = """
import os, sys
from tests.export.test_publish import crash_after_committing
crash_after_committing(sys.argv[1])
"""


def crash_after_committing(db_path: str) -> None:
    """In a child process: commit two batches, the second one unpublished (the throttle),
    then die without flushing or shutting down."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tests.export.conftest import FakePricer, _tool_call

    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for n in range(5):
        provider.get_tracer("crash").start_span(
            "tool call", attributes=_tool_call(**{semconv.LEAD_ID: f"crash-{n}"})
        ).end()
    spans = list(memory.get_finished_spans())
    exporter = DuckDBSpanExporter(db_path, pricer=FakePricer(), publish_interval_seconds=3600)
    exporter.export(spans[:2])
    exporter.export(spans[2:])
    os._exit(0)


def test_rows_committed_but_not_published_before_a_crash_are_published_once_by_the_next_writer(
    db_path, pricer, calls_on
):
    subprocess.run(
        [sys.executable, "-c", _CRASHING_WRITER, str(db_path)], cwd=REPO, check=True, timeout=60
    )
    directory = db_path.with_name(db_path.name + ".parquet")
    assert _published(directory) == (2, 2)

    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    spans = calls_on(DAY_1, 1)
    exporter.export(spans)
    assert exporter.force_flush()
    assert _published(directory) == (6, 6)

    # A segment whose rows are in the table already (a crash before its removal) is replayed.
    replayed = [span_to_row(span, pricer) for span in spans]
    exporter.shutdown()
    Spool(exporter.spool.directory).append([row for row in replayed if row is not None])
    again = DuckDBSpanExporter(db_path, pricer=pricer)
    assert again.force_flush()
    again.shutdown()

    assert _published(directory) == (6, 6)
    assert not [path for path in directory.iterdir() if path.suffix != ".parquet"]


def test_rows_deleted_from_the_table_leave_the_published_files(db_path, pricer, calls_on):
    directory = db_path.with_name(db_path.name + ".parquet")
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    exporter.export(calls_on(DAY_1, 2, "a") + calls_on(DAY_2, 3, "b"))
    exporter.shutdown()
    with duckdb.connect(str(db_path)) as connection:  # what a retention job would do
        connection.execute("DELETE FROM enrichment_logs WHERE lead_id LIKE 'a-%'")
        connection.execute("DELETE FROM enrichment_logs WHERE lead_id = 'b-0'")

    writer = DuckDBSpanExporter(db_path, pricer=pricer)
    assert writer.open_store()  # as configure() does; the export thread publishes later
    writer.shutdown()

    assert [path.name for path in directory.iterdir()] == ["enrichment_logs-2024-03-05.parquet"]
    assert _published(directory) == (2, 2)


def _read_only_directory(tmp_path: Path) -> Path:
    """A directory nobody may write to (root ignores modes, but not a read-only sysfs)."""
    if os.geteuid() == 0:
        return Path("/sys")
    directory = tmp_path / "read-only"
    directory.mkdir(mode=0o500)
    return directory


@pytest.mark.parametrize("obstacle", ["a file in the way", "a read-only directory"])
def test_a_directory_that_cannot_be_published_to_is_logged_once_and_costs_no_rows(
    db_path, pricer, calls_on, table_rows, tmp_path, caplog, obstacle
):
    if obstacle == "a file in the way":
        directory = tmp_path / "blocked.parquet"
        directory.write_text("not a directory")
    else:
        directory = _read_only_directory(tmp_path)
    caplog.set_level(logging.WARNING, logger="enrichment_logs")
    exporter = DuckDBSpanExporter(
        db_path, pricer=pricer, publish_dir=directory, publish_interval_seconds=0.001
    )

    for n in range(3):
        exporter.export(calls_on(DAY_1 + timedelta(hours=n), 2, f"batch{n}"))
        assert exporter.force_flush()
    exporter.shutdown()

    (warning,) = _publish_warnings(caplog)
    assert str(directory) in warning
    assert "database and the spool are not affected" in warning
    assert len(table_rows(db_path)) == 6
    assert exporter.stats.rows_dropped == 0
    assert exporter.spool.segments() == []


def test_publishing_resumes_once_the_obstacle_is_gone(db_path, pricer, calls_on, tmp_path, caplog):
    directory = tmp_path / "published"
    directory.write_text("in the way")
    caplog.set_level(logging.WARNING, logger="enrichment_logs")
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_dir=directory)
    exporter.export(calls_on(DAY_1, 2))
    assert exporter.force_flush()

    directory.unlink()
    exporter.export(calls_on(DAY_2, 1))
    exporter.shutdown()

    assert _published(directory) == (3, 3)
    assert "works again" in _publish_warnings(caplog)[-1]


def test_publishing_can_be_turned_off(db_path, pricer, calls_on):
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_interval_seconds=0)
    exporter.export(calls_on(DAY_1, 2))
    exporter.shutdown()

    assert exporter.publisher is None
    assert not db_path.with_name(db_path.name + ".parquet").exists()


def test_configure_reads_the_publish_settings_from_the_environment(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    from enrichment_logs.config import ConfigurationError, Settings

    monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_DIR", str(tmp_path / "for-grafana"))
    monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS", "2.5")
    settings = Settings.load({"db_path": tmp_path / "x.duckdb"})
    assert settings.resolved_publish_dir == tmp_path / "for-grafana"
    assert settings.publish_interval_seconds == 2.5

    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS", bad)
        with pytest.raises(ConfigurationError, match="ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS"):
            Settings.load({})
