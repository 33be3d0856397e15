"""A catalog nobody can reach: the pipeline starts and keeps its rows in the spool; a reader gets
one line that says so, with the password hidden."""

from __future__ import annotations

import socket

import enrichment_logs as el
from tests.analytics.cli_runs import run


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable_lake(tmp_path) -> str:
    dsn = f"host=127.0.0.1 port={closed_port()} user=el password=hunter2 dbname=lake"
    return f"ducklake:postgres:{dsn}?data_path={tmp_path}/lake"


def test_the_pipeline_starts_and_spools_while_the_catalog_is_unreachable(tmp_path):
    handle = el.configure(
        store=unreachable_lake(tmp_path),
        spool_dir=tmp_path / "spool",
        console=False,
        instrument=False,
    )
    try:
        assert "password=***" in str(handle.store)  # where rows go, safe to print
        log = el.start_enrichment_log(provider="exa", operation="search", lead_id="lead-1")
        el.complete_enrichment_log(log, response_data={"ok": True}, cost="0.005")
        assert not handle.flush(5.0)  # not written yet, and not lost
        assert handle.stats.rows_pending_in_spool == 1
        assert handle.stats.rows_dropped == 0
    finally:
        handle.shutdown()
    assert len(list((tmp_path / "spool").glob("*.jsonl"))) == 1  # for the next run to write


def test_a_reader_of_an_unreachable_catalog_gets_one_line_without_the_password(capsys, tmp_path):
    code, _, err = run(capsys, "report", "--store", unreachable_lake(tmp_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "cannot be reached" in err
    assert "hunter2" not in err and "password=***" in err
