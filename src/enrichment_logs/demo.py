"""`enrichment-logs demo`: the reference pipeline on sample leads, against the local emulator.

It starts the provider emulator on loopback, configures enrichment-logs to write to `--db`,
enriches `--leads` fictional leads concurrently with the official SDKs (no logging code in the
pipeline: the instrumentation logs every call), and ends with what each provider and lead cost,
checked against the rows in DuckDB, and writes the HTML analytics report of the file. Nothing
leaves the machine unless real API keys are set.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

import enrichment_logs as el
from enrichment_logs.analytics.html_report import render_report
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import EnrichedLead, enrich_all, sample_leads

NEXT_QUERIES = (
    "SELECT provider, operation, count(*) AS calls, sum(cost) AS usd "
    "FROM enrichment_logs GROUP BY ALL ORDER BY usd DESC",
    "SELECT lead_id, company_id, sum(cost) AS usd FROM enrichment_logs "
    "GROUP BY ALL ORDER BY usd DESC LIMIT 5",
    "SELECT provider, status, count(*), round(quantile_cont(duration_ms, 0.95)) AS p95_ms "
    "FROM enrichment_logs GROUP BY ALL",
)


DEMO_BREAKER = "failures=3,window=60s,cooldown=30s"
"""A provider failing three times in a row is left alone for 30 s (see `--fail`)."""


@dataclass(frozen=True)
class DemoOptions:
    db_path: Path
    leads: int = 25
    seed: int = 7
    concurrency: int = 5
    fail: Mapping[str, float] | None = None
    report_path: Path | None = None
    """Where to write the HTML report; default `<db stem>-report.html` next to the database."""


def run(options: DemoOptions) -> list[EnrichedLead]:
    """Enrich the sample leads into `options.db_path` and return each lead's result."""
    with ProviderEmulator(seed=options.seed, fail=dict(options.fail or {})) as emulator:
        handle = el.configure(
            options.db_path,
            console="terse",
            provider_routes=emulator_routes(emulator),
            breaker=DEMO_BREAKER,
        )
        try:
            clients = ProviderClients.from_environment(emulator)
            progress = _Progress(options.leads)
            results = asyncio.run(
                enrich_all(sample_leads(options.leads), clients, options.concurrency, progress.done)
            )
            handle.flush()
        finally:
            handle.shutdown()
    return results


def main(options: DemoOptions) -> int:
    started = datetime.now(UTC)
    results = run(options)
    # Only this run's rows: the file may hold earlier runs.
    with duckdb.connect(str(options.db_path), read_only=True) as connection:
        stored = {
            lead: cost
            for lead, cost in connection.execute(
                "SELECT lead_id, sum(cost) FROM enrichment_logs WHERE started_at >= ? "
                "GROUP BY lead_id",
                [started],
            ).fetchall()
        }
        by_provider = connection.execute(
            "SELECT provider, count(*), count(*) FILTER (status = 'error'), "
            "count(*) FILTER (status = 'rejected'), sum(cost) "
            "FROM enrichment_logs WHERE started_at >= ? GROUP BY provider ORDER BY provider",
            [started],
        ).fetchall()
    print(f"\n{'provider':<11} {'calls':>6} {'errors':>6} {'refused':>7} {'cost USD':>12}")
    for provider, calls, errors, refused, cost in by_provider:
        print(f"{provider:<11} {calls:>6} {errors:>6} {refused:>7} {cost or 0:>12.6f}")
    print(f"\n{'lead':<9} {'company':<26} {'calls':>5} {'cost USD':>10}  errors")
    for result in results:
        print(
            f"{result.lead.lead_id:<9} {result.lead.company[:26]:<26} {result.calls:>5} "
            f"{result.cost:>10.6f}  {', '.join(result.errors) or '-'}"
        )
    total = sum((result.cost for result in results), Decimal(0))
    print(f"\n{len(results)} leads, ${total:.6f} in all, logged to {options.db_path}")
    print("Try next (the DuckDB CLI is `.venv/bin/duckdb` after `make test`):")
    for query in NEXT_QUERIES:
        print(f'  duckdb {options.db_path} "{query}"')
    print("or the enrichment-logs commands (`.venv/bin/enrichment-logs` in this checkout):")
    for command in ("report", "leads", "leads --lead lead-001", "tail", 'sql "FROM lead_costs"'):
        name, _, rest = command.partition(" ")
        print(f"  enrichment-logs {name} --db {options.db_path} {rest}".rstrip())
    report = write_report(options)
    print(f"The report, to open in a browser: {report}")
    mismatched = [r.lead.lead_id for r in results if stored.get(r.lead.lead_id, 0) != r.cost]
    if mismatched:
        print(f"session totals differ from the table for: {', '.join(mismatched)}")
        return 1
    return 0


def write_report(options: DemoOptions) -> Path:
    """The HTML analytics page of the whole file, the page a user without Grafana opens."""
    path = options.report_path or options.db_path.with_name(f"{options.db_path.stem}-report.html")
    path.write_text(render_report(options.db_path), encoding="utf-8")
    return path


class _Progress:
    """A progress bar, one line per finished lead, so it reads well between the cost lines
    on a terminal and in a CI log alike."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._finished = 0

    def done(self, result: EnrichedLead) -> None:
        self._finished += 1
        filled = int(20 * self._finished / self._total)
        sys.stderr.write(
            f"[{'#' * filled}{'.' * (20 - filled)}] {self._finished}/{self._total} "
            f"{result.lead.lead_id} done: {result.calls} calls ${result.cost:.6f}\n"
        )
        sys.stderr.flush()
