"""Rows per second into a DuckLake from 1, 2 and 4 writer processes, against the single-file
exporter, measured side by side in one run.

What is timed is the store's side of the exporter, the part that differs between stores: each
writer process holds `SEGMENTS` spool segments of `BATCH` rows (the batch processor's largest
batch; rows of real priced tool calls, made beforehand with fresh ids, not timed) and, when all
writers are told to go together, its `DuckDBSpanExporter` writes them (claim, `read_json`,
insert of the ids not yet stored, commit, removal), as it does after every export. Mapping and
pricing cost the same on every store and run in each pipeline process of its own, so they are
left out; so is the single file's publishing for readers (throttled to 5% of its writer thread). The
rate is all writers' rows over the time from the first start to the last commit.

The single file has one writer (a second process would wait for its lock); the lakes, with a
PostgreSQL catalog (Debian's server on loopback, `tests/lake/postgres.py`) and a SQLite catalog,
take 1, 2 and 4. Each run ends by counting the store's rows and distinct ids. The runs are
repeated in `ROUNDS` interleaved rounds (a busy moment of a shared machine then hits every store,
not one) and each configuration's median is reported.

`python -m benchmarks --only lake_writers [--quick]`.
"""

from __future__ import annotations

import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import enrichment_logs as el
from enrichment_logs.analytics.connection import reading
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.spool import Spool
from enrichment_logs.ids import new_log_id

SEGMENTS = 30
BATCH = 2048
WRITERS = (1, 2, 4)
ROUNDS = 3
TIMEOUT = 600.0


@el.tool("exa", "search")
def search(query: str) -> dict[str, Any]:
    el.record_usage(cost="0.007", search_type="auto", results=5)
    return {"results": [{"title": query}] * 5}


@el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
def extract(page: str) -> dict[str, Any]:
    el.record_usage(model="gpt-4o-mini-2024-07-18", input_tokens=1850, output_tokens=240)
    return {"content": page}


def sample_rows(scratch: Path) -> list[dict[str, Any]]:
    """One batch of rows as the exporter writes them to its spool: real tool calls, priced."""
    handle = el.configure(
        scratch / "sample.duckdb", console=False, instrument=False, publish_interval_seconds=0
    )
    for n in range(BATCH // 2):
        with el.enrichment_session(lead_id=f"lead-{n}", company_id=f"company-{n % 97}"):
            search(f"company {n}")
            extract(f"page {n}")
    assert handle.flush(TIMEOUT)
    handle.shutdown()
    with reading(scratch / "sample.duckdb") as connection:
        cursor = connection.execute("SELECT * FROM enrichment_logs")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def writer(store: str, spool: str) -> None:
    """One writer process: open the store, say `ready`, wait for `go`, write the spool."""
    exporter = DuckDBSpanExporter(store=store, spool_dir=spool, publish_interval_seconds=0)
    assert exporter.open_store()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    deadline = time.monotonic() + TIMEOUT
    while not exporter.force_flush() and time.monotonic() < deadline:
        time.sleep(0.01)
    finished = time.time()
    exporter.shutdown()
    print(json.dumps({"started": started, "finished": finished, "stats": asdict(exporter.stats)}))


def measure(
    store: str, writers: int, rows: list[dict[str, Any]], segments: int, scratch: Path
) -> dict[str, Any]:
    """Give `writers` processes their segments, let them go together, return the rate."""
    for n in range(writers):
        spool = Spool(scratch / f"spool-{n}")
        for _ in range(segments):
            spool.append([{**row, "id": new_log_id()} for row in rows])
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.lake_writers",
                "--writer",
                store,
                f"{scratch}/spool-{n}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        for n in range(writers)
    ]
    try:
        for process in processes:
            _expect(process, "ready")
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [json.loads(_expect(process, "{")) for process in processes]
        for process in processes:
            process.wait(timeout=TIMEOUT)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    written = writers * segments * len(rows)
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    stored, distinct = _count(store)
    return {
        "rows_per_second": round(written / seconds),
        "each_row_once": stored == distinct == written,
        "rows_left_in_spools": sum(r["stats"]["rows_pending_in_spool"] for r in results),
    }


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    """`quick`: 5 segments per writer and one round (a check, not the README's figures)."""
    from tests.lake.postgres import running_postgres

    segments, rounds = (5, 1) if quick else (SEGMENTS, ROUNDS)

    rates: dict[tuple[str, int], list[int]] = {}
    checks: list[bool] = []
    with tempfile.TemporaryDirectory() as directory, running_postgres() as postgres:
        scratch = Path(directory)
        rows = sample_rows(scratch)

        def run(name: str, store: str, writers: int, round_number: int) -> None:
            place = scratch / f"{name.replace(' ', '-')}-{writers}-{round_number}"
            measured = measure(store, writers, rows, segments, place)
            rates.setdefault((name, writers), []).append(measured["rows_per_second"])
            checks.append(measured["each_row_once"] and not measured["rows_left_in_spools"])

        for round_number in range(rounds):  # interleaved, so a busy moment hits every store
            run("duckdb file", str(scratch / f"single-{round_number}.duckdb"), 1, round_number)
            for writers in WRITERS:
                dsn = postgres.dsn(postgres.create_database())
                data = f"{scratch}/pg-{writers}-{round_number}"
                run(
                    "ducklake postgres",
                    f"ducklake:postgres:{dsn}?data_path={data}",
                    writers,
                    round_number,
                )
                sqlite = f"ducklake:sqlite:{scratch}/lake-{writers}-{round_number}.sqlite"
                run("ducklake sqlite", sqlite, writers, round_number)
    single = statistics.median(rates[("duckdb file", 1)])
    runs = [
        {
            "store": name,
            "writers": writers,
            "rows_per_second": round(statistics.median(measured)),
            "rounds": measured,
            "vs_single_file": round(statistics.median(measured) / single, 2),
        }
        for (name, writers), measured in rates.items()
    ]
    result = {
        "benchmark": "lake_writers",
        "rows_per_segment": len(rows),
        "segments_per_writer": segments,
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "every_row_once_and_spools_empty": all(checks),
        "runs": runs,
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "lake_writers.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _expect(process: subprocess.Popen[str], prefix: str) -> str:
    """The writer's next line, which must start with `prefix` (bounded wait)."""
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    line = process.stdout.readline() if readable else ""
    if not line.startswith(prefix):
        raise RuntimeError(f"a writer said {line!r} instead of {prefix!r}")
    return line


def _count(store: str) -> tuple[int, int]:
    with reading(store) as connection:
        query = "SELECT count(*), count(DISTINCT id) FROM enrichment_logs"
        row = connection.execute(query).fetchone()
    assert row is not None
    return row[0], row[1]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--writer"]:
        writer(sys.argv[2], sys.argv[3])
    else:
        quick = sys.argv[1:] == ["--quick"]
        print(json.dumps(main(Path(__file__).parent / "results", quick), indent=2))
