"""The test's side of `worker.py`: start a fleet of workers on one store, a reader looping over
`enrichment-logs report` and the analytics API meanwhile, and what the store holds afterwards."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from enrichment_logs import analytics
from enrichment_logs.analytics.connection import reading
from enrichment_logs.cli import main
from enrichment_logs.emulator import ProviderEmulator

REPO = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT = 120.0
PAUSE_SECONDS = 0.2
_PROVIDER_KEYS = ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "EXA_API_KEY", "FIRECRAWL_API_KEY")


@dataclass
class Fleet:
    processes: list[subprocess.Popen[str]]
    stderr: list[Path]

    def wait(self) -> tuple[Counter[str], list[dict[str, Any]]]:
        """Calls made per lead, and each worker's final stats; every worker must exit 0."""
        calls: Counter[str] = Counter()
        stats = []
        for process, stderr in zip(self.processes, self.stderr, strict=True):
            out, _ = process.communicate(timeout=WORKER_TIMEOUT)
            assert process.returncode == 0, stderr.read_text()
            for line in out.splitlines():
                message = json.loads(line)
                if "lead" in message:
                    calls[message["lead"]] += message["calls"]
                else:
                    stats.append(message["stats"])
        return calls, stats

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=WORKER_TIMEOUT)


@contextmanager
def fleet(
    store: str, emulator: ProviderEmulator, workers: int, leads: int, rounds: int, directory: Path
) -> Iterator[Fleet]:
    """`workers` processes sharing one spool directory (as on one machine with default
    settings), each with its own leads; never left running."""
    environment = {k: v for k, v in os.environ.items() if k not in _PROVIDER_KEYS}
    environment["ENRICHMENT_LOGS_SPOOL_DIR"] = str(directory / "shared.spool")
    processes, stderr = [], []
    for number in range(workers):
        path = directory / f"worker-{number}.stderr"
        with path.open("w") as errors:
            processes.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "tests.lake.worker", store, emulator.base_url),
                        *(str(1000 + number * leads * rounds), str(leads), str(rounds)),
                    ],
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    text=True,
                    env=environment,
                )
            )
        stderr.append(path)
    running = Fleet(processes, stderr)
    try:
        yield running
    finally:
        running.kill()


@dataclass
class ReaderLoop:
    """Reads the store over and over in a thread: the report command and the analytics API."""

    store: str
    reports: int = 0
    api_calls: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ReaderLoop:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=WORKER_TIMEOUT)

    def _loop(self) -> None:
        """The command runs in this process (the same code as `enrichment-logs report`, without
        a new interpreter's start-up each time, which would starve the writers of CPU)."""
        while not self._stop.wait(PAUSE_SECONDS):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["report", "--store", self.store, "--format", "json"])
            if code:
                self.failures.append(f"report exited {code}: {err.getvalue()}")
            else:
                json.loads(out.getvalue())
                self.reports += 1
            try:
                analytics.get_enrichment_costs(self.store)
                analytics.get_top_leads(self.store, 5)
                self.api_calls += 1
            except Exception:
                self.failures.append(traceback.format_exc())


def report(store: str) -> subprocess.CompletedProcess[str]:
    """`enrichment-logs report --store STORE --format json`, as a user runs it."""
    command = Path(sys.executable).parent / "enrichment-logs"
    return subprocess.run(
        [str(command), "report", "--store", store, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )


def rows_per_lead(store: str) -> tuple[Counter[str], int, int, Decimal]:
    """Rows per lead, rows, distinct ids and the sum of costs, as the store holds them."""
    with reading(store) as connection:
        per_lead = connection.execute(
            "SELECT lead_id, count(*) FROM enrichment_logs GROUP BY lead_id"
        ).fetchall()
        row = connection.execute(
            "SELECT count(*), count(DISTINCT id), coalesce(sum(cost), 0) FROM enrichment_logs"
        ).fetchone()
    assert row is not None
    return Counter({str(lead): int(n) for lead, n in per_lead}), row[0], row[1], row[2]
