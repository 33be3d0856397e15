"""Everything ended before the process stops is written: normal exit and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.conftest import read_rows

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
