"""Everything enrichment-logs writes beside the database is private to its owner, whatever the
umask: the database and its WAL, the spool and its segments, the published lake's files and the
response cache are 0600, their directories 0700 (rows hold lead ids and, with capture on,
request and response content)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import enrichment_logs as el
from tests.conftest import Logs
from tests.lock_holders import holding


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes_beside(db_path: Path) -> dict[str, int]:
    """Permission bits of every file and directory enrichment-logs keeps beside the database."""
    modes = {}
    for path in db_path.parent.rglob("*"):
        name = str(path.relative_to(db_path.parent))
        if name.startswith(db_path.name):
            with contextlib.suppress(FileNotFoundError):  # a WAL a checkpoint just removed
                modes[name] = stat.S_IMODE(path.stat().st_mode)
    return modes


def test_every_file_and_directory_beside_the_database_is_owner_only(tmp_path, permissive_umask):
    db_path = tmp_path / "enrichment_logs.duckdb"
    seen: dict[str, int] = {}

    @el.tool("exa", "search", cost="0.007")
    def search(query: str) -> str:
        return query

    with holding(db_path):  # rows wait in spool segments
        logs = Logs(db_path, cache={"exa": 3600}, capture_content=True)
        for n in range(3):
            search(f"acme {n}")
        assert not logs.handle.flush(timeout_seconds=2)
        seen |= modes_beside(db_path)
    os.chmod(db_path, 0o600)  # the holder created the file; ours are created below
    assert logs.handle.flush()
    seen |= modes_beside(db_path)  # with the WAL, while the writer runs
    logs.rows()
    seen |= modes_beside(db_path)

    names = set(seen)
    assert any(name.endswith(".jsonl") for name in names), names
    assert any(name.endswith(".wal") for name in names), names
    assert any(name.endswith(".lake/enrichment_logs.sqlite") for name in names), names
    assert any(name.endswith(".parquet") and "/data/" in name for name in names), names
    assert any(name.endswith(".cache") for name in names), names
    loose = {name: oct(mode) for name, mode in seen.items() if mode & 0o077}
    assert loose == {}
