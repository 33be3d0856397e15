"""The writer of a DuckDB file publishes its table into a DuckLake for readers that must not open
the live file: every row once, readers never see a half-published state and never fail, and
whatever happened to the table (a crash, a replay, deletions, a new column) the next publish puts
the lake right."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from enrichment_logs import semconv
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.export.publish import LakePublisher, published_lake
from enrichment_logs.export.spool import Spool

DAY_1 = datetime(2024, 3, 4, tzinfo=UTC)
DAY_2 = datetime(2024, 3, 5, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
PUBLISHES = 80


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


def lake_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lake")


def _published(
    directory: Path, sql: str = "SELECT count(*), count(DISTINCT id) FROM enrichment_logs"
) -> tuple[object, ...]:
    """What a reader of the published lake sees (attached read-only, no lock on the file)."""
    with connect_lake(published_lake(directory), read_only=True) as reader:
        found = reader.execute(sql).fetchone()
    assert found is not None
    return tuple(found)


def _publish_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.export.publish"]


@pytest.fixture
def table(db_path: Path, pricer, calls_on) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writer's connection to a DuckDB file holding 3 calls of day 1 and 2 of day 2."""
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_interval_seconds=0)
    exporter.export(calls_on(DAY_1, 3, "a") + calls_on(DAY_2, 2, "b"))
    assert exporter.force_flush()
    exporter.shutdown()
    with duckdb.connect(str(db_path)) as connection:
        yield connection


def test_each_row_is_published_once_with_the_tables_columns_views_and_private_modes(
    db_path, pricer, calls_on
):
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    day_2_calls = calls_on(DAY_2, 2, "b")
    exporter.export(calls_on(DAY_1, 3, "a") + day_2_calls)
    assert exporter.force_flush()
    exporter.export(day_2_calls)  # the same calls again: still once
    exporter.shutdown()

    directory = lake_dir(db_path)
    with duckdb.connect(str(db_path), read_only=True) as table:
        table.execute("SET TimeZone = 'UTC'")
        expected = table.execute("SELECT * FROM enrichment_logs ORDER BY id").fetchall()
        columns = table.execute("DESCRIBE enrichment_logs").fetchall()
        views = table.execute("SELECT * FROM lead_costs ORDER BY lead_id").fetchall()
    with connect_lake(published_lake(directory), read_only=True) as reader:
        reader.execute("SET TimeZone = 'UTC'")
        assert reader.execute("SELECT * FROM enrichment_logs ORDER BY id").fetchall() == expected
        described = reader.execute("DESCRIBE enrichment_logs").fetchall()
        assert reader.execute("SELECT * FROM lead_costs ORDER BY lead_id").fetchall() == views
    assert [(name, kind) for name, kind, *_ in described] == [
        (name, kind) for name, kind, *_ in columns
    ]
    assert len(expected) == 5

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_a_publish_inserts_only_the_rows_the_lake_lacks(db_path, pricer, calls_on):
    exporter = DuckDBSpanExporter(db_path, pricer=pricer)
    exporter.export(calls_on(DAY_1, 2, "a") + calls_on(DAY_2, 2, "b"))
    assert exporter.force_flush()
    exporter.export(calls_on(DAY_2, 3, "c"))
    exporter.shutdown()

    with connect_lake(published_lake(lake_dir(db_path)), read_only=True) as reader:
        (last,) = reader.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone() or ()
        inserted = reader.execute(
            "SELECT list(lead_id ORDER BY lead_id) FROM "
            "ducklake_table_insertions('lake', 'main', 'enrichment_logs', $last, $last)",
            {"last": last},
        ).fetchone()
    assert inserted == (["c-0", "c-1", "c-2"],)  # not day 2 rewritten
    assert _published(lake_dir(db_path)) == (7, 7)


def test_publishing_waits_for_its_interval_and_publish_pending_does_not(table, tmp_path):
    now = [0.0]
    publisher = LakePublisher(tmp_path / "lake", 10.0, clock=lambda: now[0])
    publisher.publish_if_due(table, rows_written=5)
    assert not publisher.directory.exists()  # the first publish waits an interval too
    now[0] = 10.0
    publisher.publish_if_due(table, rows_written=5)
    assert _published(publisher.directory) == (5, 5)

    table.execute("DELETE FROM enrichment_logs WHERE lead_id = 'a-0'")
    now[0] = 19.0
    publisher.publish_if_due(table, rows_written=6)
    assert _published(publisher.directory) == (5, 5)  # within the interval
    now[0] = 20.5
    publisher.publish_if_due(table, rows_written=6)
    assert _published(publisher.directory) == (4, 4)

    table.execute("DELETE FROM enrichment_logs WHERE lead_id = 'a-1'")
    publisher.publish_pending(table, rows_written=7)
    assert _published(publisher.directory) == (3, 3)
    publisher.close()


_READER = """
import json, sys, time
from pathlib import Path
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.publish import published_lake

directory, stop = Path(sys.argv[1]), Path(sys.argv[2])
queries, seen, failures = 0, set(), []
while not (directory / "enrichment_logs.sqlite").exists():
    time.sleep(0.01)
with connect_lake(published_lake(directory), read_only=True) as reader:  # one connection, kept
    while not stop.exists() or queries < 20:
        try:
            rows, ids, uneven = reader.execute(
                "SELECT count(*), count(DISTINCT id), (SELECT count(*) FROM (SELECT lead_id "
                "FROM enrichment_logs GROUP BY lead_id HAVING count(*) <> 5)) FROM enrichment_logs"
            ).fetchone()
            seen.add(rows)
            if rows != ids or uneven:
                failures.append(f"{rows} rows, {ids} ids, {uneven} partial batches")
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
        queries += 1
print(json.dumps({"queries": queries, "distinct_counts": len(seen), "failures": failures[:5]}))
"""


def test_a_reader_never_fails_nor_sees_a_partial_publish_while_the_writer_publishes(
    table, tmp_path
):
    """The writer adds a batch of 5 rows and publishes, 80 times (~15 s here), deleting an
    older batch every tenth time, with maintenance (merging files, expiring snapshots, deleting
    files) every 0.5 s, so about thirty maintenance runs delete files under the reader; a reader
    in another process keeps one connection and queries all along."""
    directory, stop = tmp_path / "lake", tmp_path / "stop"
    publisher = LakePublisher(
        directory, 1.0, maintenance_interval_seconds=0.5, file_grace=timedelta(seconds=1)
    )
    table.execute("CREATE TEMP TABLE template AS FROM enrichment_logs LIMIT 1")
    table.execute("DELETE FROM enrichment_logs")
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(directory), str(stop)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for batch in range(PUBLISHES):
            table.execute(
                "INSERT INTO enrichment_logs SELECT template.* REPLACE (uuid() AS id, "
                "$lead AS lead_id) FROM template, range(5)",
                {"lead": f"batch-{batch}"},
            )
            if batch % 10 == 9:
                table.execute(
                    "DELETE FROM enrichment_logs WHERE lead_id = $lead",
                    {"lead": f"batch-{batch - 5}"},
                )
            publisher.publish_pending(table, rows_written=batch)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    publisher.close()

    report = json.loads(out)
    assert report["failures"] == []
    # The reader really queried while the lake changed (how many queries it makes per publish
    # depends on the machine: its start-up is a larger share of a short run).
    assert report["distinct_counts"] >= 10, report
    kept = 5 * (PUBLISHES - PUBLISHES // 10)
    assert _published(directory) == (kept, kept)


_CRASHING_WRITER = """
import sys
from tests.export.test_publish import crash_after_committing
crash_after_committing(sys.argv[1])
"""


def crash_after_committing(db_path: str) -> None:
    """In a child process: commit and publish two rows, commit three more, then die (the
    published lake still open) before they are published."""
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
    for first, batch in ((True, spans[:2]), (False, spans[2:])):
        exporter = DuckDBSpanExporter(db_path, pricer=FakePricer(), publish_interval_seconds=0)
        exporter.export(batch)
        exporter.force_flush()
        exporter.shutdown()
        if first:
            with duckdb.connect(db_path) as table:
                publisher = LakePublisher(lake_dir(Path(db_path)), 3600)
                publisher.publish_pending(table, rows_written=2)
    os._exit(0)


def test_rows_committed_but_not_published_before_a_crash_are_published_once_by_the_next_writer(
    db_path, pricer, calls_on
):
    subprocess.run(
        [sys.executable, "-c", _CRASHING_WRITER, str(db_path)], cwd=REPO, check=True, timeout=60
    )
    directory = lake_dir(db_path)
    assert _published(directory) == (2, 2)
    with duckdb.connect(str(db_path), read_only=True) as table:
        assert table.execute("SELECT count(*) FROM enrichment_logs").fetchone() == (5,)

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
    assert list((directory / ".staging").iterdir()) == []


def test_rows_deleted_from_the_table_leave_the_lake(table, tmp_path):
    publisher = LakePublisher(tmp_path / "lake", 1.0)
    publisher.publish_pending(table, rows_written=5)
    table.execute("DELETE FROM enrichment_logs WHERE lead_id LIKE 'a-%'")  # all of day 1
    table.execute("DELETE FROM enrichment_logs WHERE lead_id = 'b-0'")

    publisher.publish_pending(table, rows_written=6)
    publisher.close()

    assert _published(publisher.directory, "SELECT list(lead_id) FROM enrichment_logs") == (
        ["b-1"],
    )


def test_a_column_added_to_the_table_is_added_to_the_lake_with_the_tables_values(table, tmp_path):
    directory = tmp_path / "lake"
    first = LakePublisher(directory, 1.0)
    first.publish_pending(table, rows_written=5)
    first.close()
    table.execute("ALTER TABLE enrichment_logs ADD COLUMN reviewer VARCHAR")
    table.execute("UPDATE enrichment_logs SET reviewer = 'ann' WHERE lead_id LIKE 'a-%'")

    second = LakePublisher(directory, 1.0)  # the next writer, after the migration
    second.publish_pending(table, rows_written=5)
    second.close()

    sql = "SELECT lead_id, reviewer FROM enrichment_logs ORDER BY lead_id"
    with connect_lake(published_lake(directory), read_only=True) as reader:
        assert reader.execute(sql).fetchall() == table.execute(sql).fetchall()
        assert reader.execute("SELECT count(*) FROM enrichment_logs").fetchone() == (5,)


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
        directory = tmp_path / "blocked.lake"
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
    assert exporter.force_flush()
    exporter.shutdown()

    assert _published(directory) == (3, 3)
    assert "works again" in _publish_warnings(caplog)[-1]


def test_publishing_can_be_turned_off(db_path, pricer, calls_on):
    exporter = DuckDBSpanExporter(db_path, pricer=pricer, publish_interval_seconds=0)
    exporter.export(calls_on(DAY_1, 2))
    exporter.shutdown()

    assert exporter.publisher is None
    assert not lake_dir(db_path).exists()


def test_configure_reads_the_publish_settings_from_the_environment(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    from enrichment_logs.config import ConfigurationError, Settings

    assert Settings.load({"db_path": tmp_path / "x.duckdb"}).resolved_publish_dir == (
        tmp_path / "x.duckdb.lake"
    )
    monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_DIR", str(tmp_path / "for-grafana"))
    monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS", "2.5")
    settings = Settings.load({"db_path": tmp_path / "x.duckdb"})
    assert settings.resolved_publish_dir == tmp_path / "for-grafana"
    assert settings.publish_interval_seconds == 2.5

    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv("ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS", bad)
        with pytest.raises(ConfigurationError, match="ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS"):
            Settings.load({})
