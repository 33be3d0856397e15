"""DuckDB 1.5.4, the version MotherDuck's Grafana plugin bundles (v0.4.5), in its own process.

The project runs DuckDB 1.5.5, so the engine Grafana uses is installed apart: `pip install
--target` into a cache directory (kept across runs), imported by a subprocess through
PYTHONPATH. Its wheel has the extensions the plugin links statically (parquet, json, icu), so
the SQL, its functions and its result types are the plugin's.

Torn reads: DuckDB opens a Parquet file by its path more than once in one query (to bind, then
in each scanning thread), so a query that runs while the writer replaces that day's file can mix
the old file's footer with the new file's bytes and fail ("TProtocolException: Invalid data",
"invalid TType", "don't know what type"), on 1.5.4 and 1.5.5 alike, whatever the settings; the
atomic rename keeps readers from half-written files, not from this. Grafana shows such a panel's
error until its next refresh. `run(..., retry_torn_reads=True)` retries those errors (and only
those) and reports how many it met.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

VERSION = "1.5.4"

_RUNNER = r"""
import json, sys
import duckdb

assert duckdb.__version__ == sys.argv[1], duckdb.__version__
connection = duckdb.connect()  # in memory, as the plugin with path ""
torn = ("TProtocolException", "invalid TType", "don't know what type")
retry = sys.argv[2] == "retry"
results = []
for sql in json.load(sys.stdin):
    for attempt in range(5):
        try:
            relation = connection.sql(sql)
            results.append({
                "columns": relation.columns,
                "types": [str(kind) for kind in relation.types],
                "rows": json.loads(json.dumps(relation.fetchall(), default=str)),
                "torn_reads": attempt,
            })
            break
        except duckdb.Error as error:
            if not (retry and any(sign in str(error) for sign in torn)) or attempt == 4:
                results.append({"error": f"{type(error).__name__}: {error}"})
                break
json.dump(results, sys.stdout)
"""


@dataclass(frozen=True)
class Result:
    sql: str
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    torn_reads: int


def install() -> Path:
    """The directory holding DuckDB 1.5.4, installed on first use (skips without an index)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    target = cache / "enrichment-logs-tests" / f"duckdb-{VERSION}"
    if (target / "duckdb").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "duckdb").is_dir():
            return target
        staging = Path(tempfile.mkdtemp(dir=target.parent))
        install_command = ["install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                *install_command,
                "--target",
                str(staging),
                f"duckdb=={VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not (staging / "duckdb").is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            pytest.skip(f"cannot install duckdb=={VERSION}: {done.stderr.strip()[-300:]}")
        staging.rename(target)
    return target


def run(queries: Sequence[str], *, retry_torn_reads: bool = False) -> list[Result]:
    """Run each query on one in-memory DuckDB 1.5.4 connection; a failure fails the test."""
    environment = {**os.environ, "PYTHONPATH": str(install())}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, VERSION, "retry" if retry_torn_reads else "once"],
        input=json.dumps(list(queries)),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = []
    for sql, outcome in zip(queries, json.loads(done.stdout), strict=True):
        assert "error" not in outcome, f"{outcome['error']}\n{sql}"
        results.append(
            Result(
                sql, outcome["columns"], outcome["types"], outcome["rows"], outcome["torn_reads"]
            )
        )
    return results
