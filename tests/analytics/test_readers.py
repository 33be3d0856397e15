"""Reading while a pipeline writes: the analytics and the CLI read the lake the writer publishes,
never wait for the writer and never make it wait or spool."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import enrichment_logs as el
from enrichment_logs import analytics
from enrichment_logs.analytics import AnalyticsError
from enrichment_logs.cli import main
from enrichment_logs.export.exporter import DuckDBSpanExporter
from tests.analytics.conftest import NoPrices, utc

REPO = Path(__file__).resolve().parents[2]
BATCH = 10

_WRITER = """
import sys
from tests.analytics.test_readers import write_until_told
write_until_told(sys.argv[1], float(sys.argv[2]))
"""


def write_until_told(db_path: str, publish_interval_seconds: float) -> None:
    """In a child process: export a batch of `BATCH` calls every 20 ms until stdin closes, then
    shut down and print the exporter's stats as JSON. Says `ready` once the first batch is
    written and published."""
    import threading

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from enrichment_logs import semconv
    from enrichment_logs.export.exporter import DuckDBSpanExporter
    from tests.analytics.conftest import NoPrices

    stop = threading.Event()

    def wait_for_stdin_to_close() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("writer")
    exporter = DuckDBSpanExporter(
        db_path, pricer=NoPrices(), publish_interval_seconds=publish_interval_seconds
    )
    batch = 0
    while not stop.is_set():
        memory.clear()
        for n in range(BATCH):
            attributes = {
                semconv.SPAN_TYPE: "tool_call",
                semconv.PROVIDER: "exa",
                semconv.OPERATION: "search",
                semconv.STATUS: "success",
                semconv.COST: "0.005",
                semconv.COST_SOURCE: "provider",
                semconv.LEAD_ID: f"lead-{batch}-{n}",
                semconv.COMPANY_ID: "acme",
            }
            tracer.start_span("search", attributes=attributes).end()
        exporter.export(list(memory.get_finished_spans()))
        if batch == 0:
            exporter.force_flush()
            print("ready", flush=True)
        batch += 1
        stop.wait(0.02)
    exporter.shutdown()
    stats = exporter.stats
    print(
        json.dumps(
            {
                "rows_written": stats.rows_written,
                "rows_pending_in_spool": stats.rows_pending_in_spool,
                "rows_dropped": stats.rows_dropped,
                "store_failures": stats.store_failures,
            }
        ),
        flush=True,
    )


class Writer:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.stats: dict[str, int] = {}


@contextmanager
def writing(db_path: Path, publish_interval_seconds: float = 0.05) -> Iterator[Writer]:
    """A real second process writing `db_path` until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db_path), str(publish_interval_seconds)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    writer = Writer(process)
    try:
        assert process.stdout is not None and process.stdin is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready and process.stdout.readline().strip() == "ready"
        yield writer
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        writer.stats = json.loads(process.stdout.read())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_analytics_and_the_cli_read_while_another_process_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "live.duckdb"
    with writing(db) as writer:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(db), read_only=True)  # the writer holds the file

        seen = [analytics.get_enrichment_costs(db).totals.calls for _ in range(3)]
        assert all(calls > 0 and calls % BATCH == 0 for calls in seen)
        assert seen == sorted(seen)
        assert analytics.get_performance_metrics(db).operations[0].provider == "exa"
        assert analytics.get_usage_trends(db, interval="hour").points[0].provider == "exa"
        assert analytics.get_top_leads(db, 3).companies[0].company_id == "acme"
        assert analytics.get_lead_cost_details(db, "lead-0-0").totals.calls == 1
        assert analytics.get_cost_per_enrichment(db).per_enriched_lead.priced > 0

        code, out, err = _run(capsys, "report", "--db", str(db), "--format", "json")
        assert (code, err) == (0, "")
        assert json.loads(out)["costs"]["totals"]["calls"] >= seen[-1]
        assert _run(capsys, "leads", "--db", str(db))[0] == 0
        code, out, _ = _run(
            capsys,
            "sql",
            "SELECT count(*) AS n FROM enrichment_logs",
            "--db",
            str(db),
            "--format",
            "json",
        )
        assert code == 0 and json.loads(out)[0]["n"] % BATCH == 0
        code, out, _ = _run(capsys, "tail", "--db", str(db), "-n", "3")
        assert code == 0 and len(out.splitlines()) == 3
        command = Path(sys.executable).with_name("enrichment-logs")
        real = subprocess.run(
            [str(command), "report", "--db", str(db)], capture_output=True, text=True, timeout=60
        )
        assert (real.returncode, real.stderr) == (0, "")
        assert "Cost by provider and operation" in real.stdout

    assert writer.stats["store_failures"] == 0  # no reader ever kept it from the file
    assert writer.stats["rows_pending_in_spool"] == 0
    assert writer.stats["rows_dropped"] == 0
    assert analytics.get_enrichment_costs(db).totals.calls == writer.stats["rows_written"]
    published = analytics.get_enrichment_costs(db.with_name(db.name + ".lake"))
    assert published.totals.calls == writer.stats["rows_written"]


def test_a_writer_that_publishes_nothing_is_named_in_the_error(tmp_path: Path) -> None:
    db = tmp_path / "unpublished.duckdb"
    with writing(db, publish_interval_seconds=0), pytest.raises(AnalyticsError) as raised:
        analytics.get_enrichment_costs(db)

    assert "held by a process writing to it" in str(raised.value)
    assert "unpublished.duckdb.lake" in str(raised.value)


def test_analytics_in_the_writing_process_read_what_it_published(make_logs: Any) -> None:
    logs = make_logs(publish_interval_seconds=60)

    @el.tool("exa", "search", cost=Decimal("0.01"))
    def search() -> None:
        pass

    search()
    assert logs.handle.flush()

    assert analytics.get_enrichment_costs(logs.db_path).totals.known_cost == Decimal("0.01")


def test_the_published_lake_gives_the_same_figures_as_the_file(db: Path) -> None:
    published = db.with_name(db.name + ".lake")
    week = (utc(2024, 3, 4), utc(2024, 3, 11))
    for figures in (
        lambda source: analytics.get_enrichment_costs(source, group_by=("provider", "day")),
        lambda source: analytics.get_enrichment_costs(source, lead_id="lead-b"),
        lambda source: analytics.get_performance_metrics(source, date_range=week),
        lambda source: analytics.get_usage_trends(source, interval="hour", date_range=week),
        lambda source: analytics.get_lead_cost_details(source, "lead-c"),
        lambda source: analytics.get_top_leads(source, 3),
        lambda source: analytics.get_cost_per_enrichment(source),
    ):
        assert figures(published) == figures(db)


def test_a_lake_published_before_any_call_is_a_log_without_calls(tmp_path: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    exporter = DuckDBSpanExporter(db, pricer=NoPrices())
    assert exporter.open_store()
    assert exporter.force_flush()
    exporter.shutdown()

    directory = tmp_path / "fresh.duckdb.lake"
    costs = analytics.get_enrichment_costs(directory)
    assert (costs.totals.calls, costs.rows()) == (0, [])
    assert analytics.get_usage_trends(directory).rows() == []


def test_a_directory_of_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")

    with pytest.raises(AnalyticsError, match="without published enrichment logs"):
        analytics.get_top_leads(tmp_path)
