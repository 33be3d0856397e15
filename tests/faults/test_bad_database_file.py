"""Whatever sits at the database path that is not an enrichment-logs database, `configure()`
refuses it with an error naming the path, before the pipeline starts, and never writes to it or
beside it. Complements tests/export/test_duckdb_store.py (text, random bytes, SQLite, empty file,
someone else's table) with damaged DuckDB files, other formats and a directory."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import enrichment_logs as el
from enrichment_logs.cli import main
from enrichment_logs.export.duckdb_store import StoreError


def _real_log(path: Path) -> bytes:
    """The bytes of a real enrichment-logs database with a few rows."""
    handle = el.configure(path, console=False, instrument=False, publish_interval_seconds=0)

    @el.tool("exa", "search", cost="0.007")
    def search(query: str) -> str:
        return query

    for n in range(50):
        search(f"acme {n}")
    handle.shutdown()
    return path.read_bytes()


def _with_damaged_blocks(real: bytes) -> bytes:
    return real[:8192] + bytes(255 - byte for byte in real[8192:])


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "a DuckDB file with damaged blocks": _with_damaged_blocks,
    "a DuckDB file cut short": lambda real: real[:12_288],
    "a gzip file": lambda real: gzip.compress(real),
    "a Parquet file": lambda real: b"PAR1" + real[:512] + b"PAR1",
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_or_foreign_file_is_refused_by_name_and_left_untouched(tmp_path, damage):
    real = _real_log(tmp_path / "real" / "enrichment_logs.duckdb")
    path = tmp_path / "log" / "enrichment_logs.duckdb"
    path.parent.mkdir()
    path.write_bytes(DAMAGE[damage](real))
    before = _digest(path)

    with pytest.raises(StoreError) as refused:
        el.configure(path, console=False, instrument=False)

    assert str(path) in str(refused.value)
    assert "left untouched" in str(refused.value)
    assert _digest(path) == before
    assert os.listdir(path.parent) == [path.name]  # no WAL, spool or published files beside it


def test_a_directory_at_the_database_path_is_refused_by_name(tmp_path):
    path = tmp_path / "enrichment_logs.duckdb"
    path.mkdir()
    (path / "keep.txt").write_text("mine")

    with pytest.raises(StoreError, match=str(path)):
        el.configure(path, console=False, instrument=False)

    assert os.listdir(path) == ["keep.txt"]
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_the_cli_refuses_a_damaged_file_in_one_line_and_leaves_it_untouched(tmp_path, capsys):
    path = tmp_path / "enrichment_logs.duckdb"
    path.write_bytes(_with_damaged_blocks(_real_log(tmp_path / "real.duckdb")))
    before = _digest(path)

    code = main(["leads", "--db", str(path)])

    error = capsys.readouterr().err
    assert code == 2
    assert str(path) in error and "Traceback" not in error
    assert _digest(path) == before
