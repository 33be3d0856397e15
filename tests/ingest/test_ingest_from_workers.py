"""Workers in other processes send their spans over OTLP/HTTP; the ingest service stores each
tool call once, as exactly the row the worker's own in-process exporter writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import read_rows

REPOSITORY = Path(__file__).resolve().parents[2]


def assert_same_rows(
    worker_rows: list[dict[str, Any]], ingested_rows: list[dict[str, Any]]
) -> None:
    """Every column of every row equal, whichever way the span travelled."""
    assert worker_rows, "the worker logged nothing"
    by_id = {row["id"]: row for row in ingested_rows}
    assert len(by_id) == len(ingested_rows) == len(worker_rows)
    for row in worker_rows:
        assert by_id[row["id"]] == row


def test_the_stack_workload_sending_protobuf_is_stored_once_per_call(tmp_path, start_ingest):
    """The compose `workload`: the reference pipeline against the emulator, two rounds, its
    spans sent by the OTLP/HTTP exporter (protobuf, gzip) as it sends them to the Collector."""
    ingest = start_ingest()
    worker_db = tmp_path / "worker.duckdb"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "enrichment_logs.reference.workload",
            "--rounds",
            "2",
            "--leads",
            "2",
            "--pause",
            "0",
            "--fail",
            "exa=0.5",
        ],
        env={
            **os.environ,
            "ENRICHMENT_LOGS_DB_PATH": str(worker_db),
            "ENRICHMENT_LOGS_CONSOLE": "off",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ingest.url + "/v1/traces",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        },
        capture_output=True,
        check=True,
        timeout=120,
    )

    worker_rows = read_rows(worker_db)
    assert len(worker_rows) == 2 * 2 * 4
    assert {row["provider"] for row in worker_rows} == {"openai", "perplexity", "exa", "firecrawl"}
    assert_same_rows(worker_rows, ingest.rows())


def test_a_worker_sending_json_twice_is_stored_once_with_the_same_rows(tmp_path, start_ingest):
    ingest = start_ingest()
    worker_db = tmp_path / "worker.duckdb"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.ingest.json_worker",
            ingest.url + "/v1/traces",
            str(worker_db),
        ],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
        timeout=120,
    )

    worker_rows = read_rows(worker_db)
    assert [(row["provider"], row["status"]) for row in worker_rows] == [
        ("exa", "success"),
        ("openai", "success"),
        ("firecrawl", "error"),
    ]
    assert {row["lead_id"] for row in worker_rows} == {"lead-7"}
    assert {row["service_name"] for row in worker_rows} == {"json-worker"}
    assert_same_rows(worker_rows, ingest.rows())
