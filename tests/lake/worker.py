"""One worker of a fleet: the reference pipeline in its own process, writing to a shared store.

Run as `python -m tests.lake.worker STORE EMULATOR_BASE_URL FIRST LEADS ROUNDS`. It enriches
`ROUNDS` rounds of `LEADS` sample leads (numbered from FIRST, so every worker has its own) against
the test's emulator, flushing after each round, and prints one JSON line per lead
(`{"lead", "calls"}`). At the end it flushes until every row is in the store (the catalog may
have been down for a while: rows waited in the spool) and prints `{"stats": ...}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict

import enrichment_logs as el
from enrichment_logs.emulator.remote import RemoteEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import EnrichedLead, enrich_all, sample_leads

FLUSH_DEADLINE_SECONDS = 60.0


def main(store: str, base_url: str, first: int, leads: int, rounds: int) -> None:
    emulator = RemoteEmulator(base_url)
    handle = el.configure(store=store, console=False, provider_routes=emulator_routes(emulator))
    for round_number in range(rounds):
        start = first + round_number * leads
        batch = sample_leads(start + leads)[start:]
        asyncio.run(enrich_all(batch, ProviderClients.from_environment(emulator), 5, _report))
        handle.flush(1.0)
    deadline = time.monotonic() + FLUSH_DEADLINE_SECONDS
    while not handle.flush(5.0) and time.monotonic() < deadline:
        time.sleep(0.2)
    handle.shutdown()
    print(json.dumps({"stats": asdict(handle.stats)}), flush=True)


def _report(result: EnrichedLead) -> None:
    print(json.dumps({"lead": result.lead.lead_id, "calls": result.calls}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(argument) for argument in sys.argv[3:6]))
