"""Four pipeline processes write one DuckLake while a reader keeps reporting on it: every call is
one row, nobody waits on a lock, the report adds up; and the catalog may go away for a while."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.lake.fleet import ReaderLoop, fleet, report, rows_per_lead

WORKERS = 4
LEADS = 3
ROUNDS = 2


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    """Outlives the workers, so requests are counted whatever happens to them."""
    with ProviderEmulator(seed=5) as running:
        yield running


@pytest.mark.parametrize("lake", ["postgres_lake", "sqlite_lake"])
def test_four_writers_and_a_reader_share_one_lake(request, lake, emulator, tmp_path):
    store = request.getfixturevalue(lake)
    with fleet(store, emulator, WORKERS, LEADS, ROUNDS, tmp_path) as workers:
        _wait_for_rows(store)  # the first writer creates the lake
        with ReaderLoop(store) as reader:
            calls, stats = workers.wait()
    assert reader.failures == []
    assert reader.reports >= 1 and reader.api_calls >= 1  # it did read while they wrote

    per_lead, rows, ids, cost = rows_per_lead(store)
    assert len(calls) == WORKERS * LEADS * ROUNDS
    assert per_lead == calls  # every call made is one row, attributed to its lead
    assert rows == ids == sum(calls.values()) == emulator.count()
    assert all(s["rows_dropped"] == 0 and s["store_failures"] == 0 for s in stats), stats
    assert sum(s["rows_written"] for s in stats) == rows

    final = report(store)
    assert final.returncode == 0, final.stderr
    totals = json.loads(final.stdout, parse_float=Decimal)["costs"]["totals"]
    assert totals["calls"] == rows
    assert Decimal(str(totals["known_cost"])) == cost


def test_the_catalog_stopped_mid_run_loses_and_duplicates_nothing(
    postgres, postgres_lake, emulator, tmp_path
):
    with fleet(postgres_lake, emulator, 2, LEADS, 4, tmp_path) as workers:
        _wait_for_rows(postgres_lake)
        postgres.stop()
        try:
            time.sleep(2)  # the workers go on enriching: their rows wait in the shared spool
        finally:
            postgres.start()  # whatever happens: the other tests share this server
        calls, stats = workers.wait()

    per_lead, rows, ids, _ = rows_per_lead(postgres_lake)
    assert per_lead == calls
    assert rows == ids == sum(calls.values()) == emulator.count()
    assert any(s["store_failures"] for s in stats)  # the outage was noticed
    assert all(s["rows_dropped"] == 0 and s["rows_pending_in_spool"] == 0 for s in stats)
    assert not any((tmp_path / "shared.spool").glob("*.jsonl"))


def _wait_for_rows(store: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if rows_per_lead(store)[1]:
                return
        except Exception:  # the lake is created by the first writer
            pass
        time.sleep(0.2)
    raise AssertionError(f"no row reached {store} within {timeout} s")
