"""Everything ended before the process stops is written: normal exit and SIGTERM, for a loop of
`@tool` calls and for the reference pipeline against the emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from enrichment_logs.emulator import ProviderEmulator
from tests.conftest import read_rows
from tests.faults.pipeline import pipeline_process, rows_per_lead, spooled_rows, table_ids

PIPELINE = """
import sys, time
import enrichment_logs as el

el.configure()

@el.tool("exa", "search", cost="0.007")
def search(n):
    return n

calls = 0
for n in range(int(sys.argv[1])):
    search(n)
    calls += 1
el.start_enrichment_log(provider="firecrawl", operation="crawl")  # never completed
print(calls, flush=True)
if sys.argv[2] == "wait":
    time.sleep(60)  # until SIGTERM
"""


def run_pipeline(tmp_path, calls: int, mode: str) -> subprocess.Popen[str]:
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    environment = {
        **os.environ,
        "ENRICHMENT_LOGS_DB_PATH": str(tmp_path / "logs.duckdb"),
        "ENRICHMENT_LOGS_CONSOLE": "false",
    }
    return subprocess.Popen(
        [sys.executable, str(script), str(calls), mode],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_normal_exit_writes_every_call_and_the_open_log(tmp_path):
    process = run_pipeline(tmp_path, 500, "exit")
    assert process.wait(timeout=120) == 0
    rows = read_rows(tmp_path / "logs.duckdb")
    assert len(rows) == 501
    assert sum(row["status"] == "error" for row in rows) == 1


def test_sigterm_flushes_then_terminates(tmp_path):
    process = run_pipeline(tmp_path, 500, "wait")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "500"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == -signal.SIGTERM
    rows = read_rows(tmp_path / "logs.duckdb")
    assert len(rows) == 501
    assert len({row["id"] for row in rows}) == 501


def test_the_reference_pipeline_exiting_without_flush_writes_every_call(tmp_path):
    db_path = tmp_path / "pipeline.duckdb"
    with ProviderEmulator(seed=5) as emulator, pipeline_process(db_path, emulator) as pipeline:
        pipeline.enrich(10)
        pipeline.close_input()  # the interpreter exits: no flush, no shutdown by the pipeline
        assert pipeline.wait() == 0
        made = emulator.count()

    ids = table_ids(db_path)
    assert len(ids) == len(set(ids)) == made == 40
    assert spooled_rows(db_path.with_name(db_path.name + ".spool")) == []


def test_sigterm_mid_run_writes_every_call_that_ended_and_leaves_nothing_behind(tmp_path):
    db_path = tmp_path / "pipeline.duckdb"
    with ProviderEmulator(seed=5) as emulator, pipeline_process(db_path, emulator) as pipeline:
        pipeline.send({"enrich": 500, "first": 0})  # far more than it gets to do
        while len(pipeline.leads) < 8:
            pipeline.answer("lead")
        pipeline.kill(signal.SIGTERM)
        assert pipeline.wait() == -signal.SIGTERM
        made = emulator.count()
        finished = list(pipeline.leads)

    ids = table_ids(db_path)
    assert len(ids) == len(set(ids)) <= made  # calls in flight at SIGTERM never ended
    assert spooled_rows(db_path.with_name(db_path.name + ".spool")) == []
    per_lead = rows_per_lead(db_path)
    for lead in finished:
        assert per_lead.get(lead["lead"]) == lead["calls"], lead
