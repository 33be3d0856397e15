"""A DuckLake to write to: PostgreSQL as the catalog (`tests/lake/postgres.py`, one server for
the session), or a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lake.postgres import PostgresServer, running_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_lake(postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty lake: its own catalog database, its data files under the test's directory.
    The test runs in that directory too: a PostgreSQL lake's writers spool to
    `enrichment_logs.spool` in the working directory unless told otherwise."""
    monkeypatch.chdir(tmp_path)
    return f"ducklake:postgres:{postgres.dsn(postgres.create_database())}?data_path={tmp_path}/lake"


@pytest.fixture
def sqlite_lake(tmp_path: Path) -> str:
    return f"ducklake:sqlite:{tmp_path}/catalog.sqlite"
