"""`python -m enrichment_logs.reference.workload`: the reference pipeline in a loop, for the stack.

`docker compose` runs it as the `workload` service. It is one long-lived process, so its metrics
are continuous series rather than a new set per run: it starts the provider emulator, calls
`configure()` once (with `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans and metrics go to the Collector)
and enriches a few sample leads per round, with the emulator failing a share of some providers'
calls so that error panels have data, until SIGTERM or `--rounds` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import threading

import enrichment_logs as el
from enrichment_logs.cli.arguments import failure_rate, positive_int
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import enrich_all, sample_leads
from enrichment_logs.stopping import stop_on_signals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m enrichment_logs.reference.workload")
    parser.add_argument("--leads", type=positive_int, default=5, help="leads per round (5)")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between rounds (5)")
    parser.add_argument("--rounds", type=int, default=0, help="stop after this many (0: never)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fail", type=failure_rate, action="append", default=[], metavar="PROVIDER=RATE"
    )
    args = parser.parse_args(argv)
    stop = stop_on_signals()
    with ProviderEmulator(seed=args.seed, fail=dict(args.fail)) as emulator:
        handle = el.configure(provider_routes=emulator_routes(emulator))
        try:
            asyncio.run(_rounds(ProviderClients.from_environment(emulator), args, stop, handle))
        finally:
            handle.shutdown()


async def _rounds(
    clients: ProviderClients,
    args: argparse.Namespace,
    stop: threading.Event,
    handle: el.EnrichmentLogs,
) -> None:
    done = 0
    while not stop.is_set() and (args.rounds == 0 or done < args.rounds):
        await enrich_all(sample_leads(args.leads), clients, concurrency=args.leads)
        handle.flush()
        done += 1
        await asyncio.to_thread(stop.wait, args.pause)


if __name__ == "__main__":
    main()
