"""Calls of known leads written to a store, and every place a reader could still find one of them:
each table and view, every older snapshot (time travel), every data file (a published lake's too),
the catalog database itself."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

import enrichment_logs as el
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url


@dataclass(frozen=True)
class Lead:
    lead_id: str
    company_id: str
    email: str


GONE = Lead("lead-gone", "company-gone", "grace.hopper@erased.example")
KEPT = Lead("lead-kept", "company-kept", "alan.turing@kept.example")


def write_calls(
    store: str,
    batches: int = 3,
    leads: Sequence[Lead] = (GONE, KEPT),
    publish_interval_seconds: float | None = None,
    calls_per_lead: int = 1,
) -> None:
    """Each batch `calls_per_lead` calls per lead, their content captured (the lead's email in
    the request and the response), flushed as its own commit; then the writer is shut down.
    A DuckLake keeps a batch of up to 10 rows in its catalog, a larger one in a data file."""
    handle = el.configure(
        store=store,
        console=False,
        instrument=False,
        capture_content=True,
        publish_interval_seconds=publish_interval_seconds,
    )
    try:
        for batch in range(batches):
            for lead in [lead for lead in leads for _ in range(calls_per_lead)]:
                log = el.start_enrichment_log(
                    provider="exa",
                    operation="search",
                    lead_id=lead.lead_id,
                    company_id=lead.company_id,
                    request_data={"query": f"who is {lead.email}", "batch": batch},
                )
                el.complete_enrichment_log(log, response_data={"email": lead.email}, cost="0.005")
            assert handle.flush()
    finally:
        handle.shutdown()


def found_in_store(store: str, lead: Lead) -> list[str]:
    """Where `lead` (its id or email) is readable through the store: every table and view of the
    current snapshot and, in a lake, of every snapshot still kept."""
    url = parse_store_url(store)
    if isinstance(url, DuckLakeUrl):
        connection = connect_lake(url, read_only=True)
        versions: list[int | None] = [
            row[0]
            for row in connection.execute(
                "SELECT snapshot_id FROM ducklake_snapshots('lake')"
            ).fetchall()
        ]
    else:
        connection = duckdb.connect(str(url.path), read_only=True)
        versions = [None]
    found = []
    with connection:
        for name in _relations(connection):
            for version in versions:
                at = "" if version is None else f" AT (VERSION => {version})"
                try:
                    hits = _count(connection, f"SELECT * FROM {name}{at}", lead)
                except duckdb.CatalogException:  # not there yet at that version
                    continue
                if hits:
                    found.append(f"{name}{at}: {hits}")
    return found


def found_in_files(directory: Path, lead: Lead) -> list[str]:
    """Every Parquet file under `directory` (lake data files, published days) holding `lead`."""
    found = []
    with duckdb.connect() as connection:
        for path in sorted(directory.rglob("*.parquet")):
            hits = _count(connection, f"SELECT * FROM read_parquet('{path}')", lead)
            if hits:
                found.append(f"{path}: {hits}")
    return found


def found_in_postgres(pg_dump: Path, dsn: str, lead: Lead) -> list[str]:
    """Lines of the catalog database's data (every table of it) that mention `lead`."""
    dump = subprocess.run(
        [str(pg_dump), "--data-only", dsn], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [line for line in dump.splitlines() if _mentions(line, lead)]


def found_in_sqlite(path: Path, lead: Lead) -> list[str]:
    with sqlite3.connect(path) as catalog:
        return [line for line in catalog.iterdump() if _mentions(line, lead)]


def _mentions(text: str, lead: Lead) -> bool:
    return lead.lead_id in text or lead.email in text


def _relations(connection: duckdb.DuckDBPyConnection) -> Iterator[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY table_name"
    ).fetchall()
    return (str(row[0]) for row in rows)


def _count(connection: duckdb.DuckDBPyConnection, source: str, lead: Lead) -> int:
    row = connection.execute(
        f"SELECT count(*) FROM ({source}) AS r WHERE contains(r::VARCHAR, $id) "
        "OR contains(r::VARCHAR, $email)",
        {"id": lead.lead_id, "email": lead.email},
    ).fetchone()
    return int(row[0]) if row else 0
