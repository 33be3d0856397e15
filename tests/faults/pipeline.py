"""The test's side of `pipeline_child.py`: start the pipeline process, drive it, read answers."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from enrichment_logs.emulator import ProviderEmulator

CHILD = Path(__file__).with_name("pipeline_child.py")
ANSWER_TIMEOUT = 60.0
_PROVIDER_KEYS = ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "EXA_API_KEY", "FIRECRAWL_API_KEY")


@dataclass
class PipelineProcess:
    """One running pipeline process; every wait on it is bounded."""

    process: subprocess.Popen[str]
    logged: list[str] = field(default_factory=list)
    """Its stderr so far, read from a pipe (a file could be the very thing a test fills)."""
    leads: list[dict[str, Any]] = field(default_factory=list)
    """Every finished lead it reported, in order."""
    answers: queue.Queue[str] = field(default_factory=queue.Queue)
    """Its stdout's lines, as they come."""

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self, key: str, timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
        """The next message holding `key`; lead reports on the way are collected."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.answers.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {key!r} within {timeout} s: {self.stacks()}") from None
            assert line, f"the pipeline ended before {key!r}: {self.stderr()}"
            message: dict[str, Any] = json.loads(line)
            if "lead" in message:
                self.leads.append(message)
            if key in message:
                return message

    def enrich(self, count: int) -> dict[str, Any]:
        """Enrich the next `count` sample leads; returns the closing message with stats."""
        self.send({"enrich": count, "first": len(self.leads)})
        return self.answer("enriched")

    def close_input(self) -> None:
        """End of commands: the process exits normally (atexit), with no flush of ours."""
        assert self.process.stdin is not None
        self.process.stdin.close()

    def wait(self, timeout: float = ANSWER_TIMEOUT) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self, signum: int = signal.SIGKILL) -> None:
        self.process.send_signal(signum)

    def stacks(self) -> str:
        """Its threads' stacks (faulthandler) and everything it logged: why it is stuck."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
        return self.stderr()

    def stderr(self) -> str:
        return "".join(self.logged)

    def _collect_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.logged.append(line)

    def _collect_answers(self) -> None:
        """Lines of its stdout, then "" at its end. Read by a thread: `select` on the pipe
        misses a line that a buffered `readline` already took in with the one before."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")


@contextmanager
def pipeline_process(
    db_path: Path, emulator: ProviderEmulator, extra_environment: dict[str, str] | None = None
) -> Iterator[PipelineProcess]:
    """Start the pipeline process, wait until it is configured, and never leave it running."""
    environment = {k: v for k, v in os.environ.items() if k not in _PROVIDER_KEYS}
    process = subprocess.Popen(
        [sys.executable, str(CHILD), str(db_path), emulator.base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, **(extra_environment or {})},
    )
    running = PipelineProcess(process)
    reader = threading.Thread(target=running._collect_stderr, daemon=True)
    reader.start()
    threading.Thread(target=running._collect_answers, daemon=True).start()
    try:
        running.answer("ready")
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=ANSWER_TIMEOUT)
        reader.join(timeout=ANSWER_TIMEOUT)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def table_ids(db_path: Path) -> list[str]:
    """Every row id in the table (the file must be free)."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        found = connection.execute("SELECT id FROM enrichment_logs").fetchall()
    return [str(row[0]) for row in found]


def rows_per_lead(db_path: Path) -> dict[str, int]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        found = connection.execute(
            "SELECT lead_id, count(*) FROM enrichment_logs GROUP BY lead_id"
        ).fetchall()
    return {str(lead): int(count) for lead, count in found}


def spooled_rows(spool_dir: Path) -> list[dict[str, Any]]:
    """The rows waiting in a spool directory's segments."""
    if not spool_dir.is_dir():
        return []
    return [
        json.loads(line)
        for segment in sorted(spool_dir.glob("*.jsonl"))
        for line in segment.read_text().splitlines()
    ]
