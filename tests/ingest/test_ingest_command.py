"""`enrichment-logs ingest` refuses what it cannot serve with one clear line and exit code 2."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.ingest.conftest import COMMAND


def run_ingest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "ingest", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path):
    not_a_database = tmp_path / "notes.duckdb"
    not_a_database.write_text("my notes\n")

    done = run_ingest("--db", str(not_a_database), "--port", "0")

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "is not a DuckDB database" in done.stderr
    assert not_a_database.read_text() == "my notes\n"


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run_ingest("--db", str(tmp_path / "logs.duckdb"), "--port", str(port))

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize(
    "arguments",
    [("--port", "70000"), ("--max-spool-rows", "0"), ("--max-body-bytes", "lots")],
)
def test_bad_options_are_refused(tmp_path, arguments):
    done = run_ingest("--db", str(tmp_path / "logs.duckdb"), *arguments)

    assert done.returncode == 2
    assert arguments[0] in done.stderr
