"""DuckDB 1.5.4, the version MotherDuck's Grafana plugin bundles (v0.4.5), in its own process.

The project runs DuckDB 1.5.5, so the engine Grafana uses is installed apart: `pip install
--target` into a cache directory (kept across runs), with the DuckLake, SQLite and PostgreSQL
extension wheels of the same version (what the datasource loads), imported by a subprocess
through PYTHONPATH. Its wheel has the
extensions the plugin links statically (parquet, json, icu), so the SQL, its functions and its
result types are the plugin's.

The subprocess does what the datasource does: it runs the provisioned `initSql` once, on one
connection, with the extension directory the Grafana image installs into replaced by a directory
of the wheels' extension files laid out as DuckDB's `INSTALL` lays them out, and
`${ENRICHMENT_LOGS_LAKE}` by the lake under test (Grafana replaces environment variables in
provisioning files). Then it runs the queries alternately on that connection and on a second
connection of the same database, as the plugin's connection pool does: `initSql` ran on only
one of them. Any error fails the test: nothing is retried.
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

from tests.grafana.dashboards import provisioned_datasources

VERSION = "1.5.4"

_RUNNER = r"""
import json, os, sys
import duckdb

assert duckdb.__version__ == sys.argv[1], duckdb.__version__
request = json.load(sys.stdin)
init = duckdb.connect(config={"autoinstall_known_extensions": False})  # in memory, as path ""
platform = init.execute("PRAGMA platform").fetchone()[0]
installed = os.path.join(request["extension_directory"], "v" + sys.argv[1], platform)
os.makedirs(installed, exist_ok=True)
for name in ("ducklake", "sqlite_scanner", "postgres_scanner"):
    file_name = name + ".duckdb_extension"
    package = os.path.dirname(__import__("duckdb_extension_" + name).__file__)
    target = os.path.join(installed, file_name)
    if not os.path.exists(target):
        os.symlink(os.path.join(package, "extensions", "v" + sys.argv[1], file_name), target)
init.execute(request["init_sql"])
pooled = init.cursor()  # another connection of the same in-memory database
results = []
for index, sql in enumerate(request["queries"]):
    try:
        relation = (init if index % 2 else pooled).sql(sql)
        results.append({
            "columns": relation.columns,
            "types": [str(kind) for kind in relation.types],
            "rows": json.loads(json.dumps(relation.fetchall(), default=str)),
        })
    except duckdb.Error as error:
        results.append({"error": f"{type(error).__name__}: {error}"})
json.dump(results, sys.stdout)
"""
_IMAGE_EXTENSIONS = "/opt/duckdb-extensions"
"""Where the Grafana image installs the extensions (grafana/Dockerfile, and `initSql`)."""
_PACKAGES = (
    f"duckdb=={VERSION}",
    f"duckdb-extension-ducklake=={VERSION}",
    f"duckdb-extension-sqlite-scanner=={VERSION}",
    f"duckdb-extension-postgres-scanner=={VERSION}",
)


@dataclass(frozen=True)
class Result:
    sql: str
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]


def install() -> Path:
    """The directory holding DuckDB 1.5.4 and the extensions the datasource loads, installed on
    first use (skips without an index)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    target = cache / "enrichment-logs-tests" / f"duckdb-{VERSION}-ducklake"
    if (target / "duckdb_extension_postgres_scanner").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "duckdb_extension_postgres_scanner").is_dir():
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
                *_PACKAGES,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not (staging / "duckdb_extension_postgres_scanner").is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            pytest.skip(f"cannot install {' '.join(_PACKAGES)}: {done.stderr.strip()[-300:]}")
        staging.rename(target)
    return target


def init_sql(lake: str, extension_directory: Path) -> str:
    """The provisioned `initSql` as the datasource runs it: Grafana's environment variable
    replaced by `lake`, the image's extension directory by `extension_directory`."""
    provisioned = str(provisioned_datasources()["enrichment-duckdb"]["jsonData"]["initSql"])
    assert _IMAGE_EXTENSIONS in provisioned
    return provisioned.replace("${ENRICHMENT_LOGS_LAKE}", lake).replace(
        _IMAGE_EXTENSIONS, str(extension_directory)
    )


def run(queries: Sequence[str], *, lake: str) -> list[Result]:
    """Run each query on DuckDB 1.5.4 set up as the datasource sets it up for the DuckLake
    `lake` (an ATTACH path, `ducklake:sqlite:...`); any error fails the test."""
    home = install()
    request = {
        "init_sql": init_sql(lake, home / "extensions"),
        "extension_directory": str(home / "extensions"),
        "queries": list(queries),
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, VERSION],
        input=json.dumps(request),
        env={**os.environ, "PYTHONPATH": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = []
    for sql, outcome in zip(queries, json.loads(done.stdout), strict=True):
        assert "error" not in outcome, f"{outcome['error']}\n{sql}"
        results.append(Result(sql, outcome["columns"], outcome["types"], outcome["rows"]))
    return results
