"""A pipeline process for the dashboard tests: the reference pipeline against the emulator.

`rounds`: enrich six new leads round after round until stdin closes (a writer that stays active
while the tests read); a DuckDB file's writer publishes its lake every 0.2 s. Prints `ready` once
the first round is written and published.

`phases` (with `--metrics-port`): phase A enriches two leads with no faults, so every cost series
exists; a quiet gap; phase B enriches more leads with faults (Exa down) and a retried failure
(budgets and a breaker apply when the environment configures them); prints the
time each phase started and ended, then keeps serving metrics until stdin closes. A Prometheus
window from the gap to after B holds exactly B's calls.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import threading
import time

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import enrich_all, sample_leads

FAULTS = {"exa": 0.3, "firecrawl": 0.2, "perplexity": 0.1}
OUTAGE = {**FAULTS, "exa": 1.0}
"""Phase B: Exa fails every call, so a configured circuit breaker opens."""


def say(*words: object) -> None:
    print(*words, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("rounds", "phases"))
    parser.add_argument("--store", required=True, help="a DuckDB file's path or a store URL")
    parser.add_argument("--metrics-port", type=int)
    parser.add_argument("--gap", type=float, default=2.0)
    options = parser.parse_args()
    stdin_closed = threading.Event()

    def wait_for_stdin_to_close() -> None:
        sys.stdin.read()
        stdin_closed.set()

    threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
    with ProviderEmulator(seed=11) as emulator:
        handle = el.configure(
            store=options.store,
            console="off",
            provider_routes=emulator_routes(emulator),
            publish_interval_seconds=0.2,
            metrics_port=options.metrics_port,
        )
        clients = ProviderClients.from_environment(emulator)
        if options.mode == "rounds":
            for provider, rate in FAULTS.items():
                emulator.fail(provider, rate)
            rounds = 0
            while not rounds or not stdin_closed.is_set():
                leads = [
                    dataclasses.replace(lead, lead_id=f"{lead.lead_id}-{rounds}")
                    for lead in sample_leads(6)
                ]
                asyncio.run(enrich_all(leads, clients, concurrency=3))
                if not rounds:
                    handle.flush()
                    say("ready")
                rounds += 1
        else:
            say("a-start", time.time())
            asyncio.run(enrich_all(sample_leads(2), clients, concurrency=2))
            handle.flush()
            say("a-end", time.time())
            time.sleep(options.gap)
            say("b-start", time.time())
            for provider, rate in OUTAGE.items():
                emulator.fail(provider, rate)
            asyncio.run(enrich_all(sample_leads(12), clients, concurrency=4))
            log_id = el.start_enrichment_log(
                provider="openai", operation="chat.completions.create", model="gpt-4o-mini"
            )
            el.fail_enrichment_log(log_id, "HTTP 429 after 2 retries", retry_count=2)
            handle.flush()
            say("b-end", time.time())
            stdin_closed.wait()
        handle.shutdown()


if __name__ == "__main__":
    main()
