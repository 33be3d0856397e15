"""Real second processes that hold a DuckDB file open, as the DuckDB CLI, Grafana or a second
Python worker would: while one runs, no other process can open the file, even read-only."""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

Holder = Literal["python", "duckdb-cli"]
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")
"""The `duckdb-cli` wheel's command, installed in the dev environment."""


def _command(db_path: Path, holder: Holder) -> tuple[list[str], str]:
    """The holder's command line, and what to write on its stdin so it says it is ready."""
    if holder == "duckdb-cli":
        return [str(DUCKDB_CLI), str(db_path)], ".print ready\n"
    script = (
        "import sys, duckdb\n"
        f"connection = duckdb.connect({str(db_path)!r})\n"
        "print(sys.stdin.readline().strip(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    return [sys.executable, "-c", script], "ready\n"


@contextmanager
def holding(db_path: Path, holder: Holder = "python", timeout: float = 30.0) -> Iterator[None]:
    """`holder` has the file open (read-write) from entry until exit, then releases it."""
    command, ready = _command(db_path, holder)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        process.stdin.write(ready)
        process.stdin.flush()
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        assert readable, f"the {holder} holding {db_path} did not start in time"
        assert process.stdout.readline().strip() == "ready"
        yield
        process.stdin.close()
        assert process.wait(timeout=timeout) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=timeout)
