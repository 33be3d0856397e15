"""The reference pipeline's wall time with enrichment-logs against without, on the emulator.

The pipeline (Firecrawl, Exa and Perplexity concurrently, then OpenAI, per lead; several leads
at once) runs with the official async SDKs against the emulator in its own process, as real
providers are. Rounds alternate in random order between no instrumentation and `configure()`
with every instrumentation on; each round's instrumented time is compared with the same round's
bare time, and the median of those ratios is reported. Every instrumented round appends to one
log, created (with its published lake) by a warm-up round, as successive runs of a pipeline do:
creating a new log costs about a second once, which a 3-second round would otherwise count. The
final flush (rows still being written when the last lead is done) is timed apart: the pipeline's
result does not wait for it.

Run twice: with provider latencies (the goal's measure) and with none, where the pipeline is
nothing but SDK work on the client's CPU: the worst case, the share a logger can be of it.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import enrichment_logs as el
from benchmarks.workload import (
    emulator_process,
    measurement_arguments,
    run_measurement,
    write_result,
)
from enrichment_logs.emulator.remote import RemoteEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import enrich_all, sample_leads

ROUNDS = 9
LEADS = 40
CONCURRENCY = 10
GOAL_PERCENT = 2.0
LATENCY = {"openai": 0.3, "perplexity": 0.4, "exa": 0.15, "firecrawl": 0.2}
"""Seconds per call, a fraction of what the real services take (seconds for a chat completion
or a scrape): the faster the providers, the larger our share of the wall time."""


def _enrich(emulator: RemoteEmulator, leads: int) -> float:
    clients = ProviderClients.from_environment(emulator)  # new clients: one event loop each
    started = time.perf_counter()
    asyncio.run(enrich_all(sample_leads(leads), clients, CONCURRENCY))
    return time.perf_counter() - started


def _instrumented(emulator: RemoteEmulator, leads: int, db_path: Path) -> tuple[float, float]:
    """A round with `configure()` on the log every round appends to, as a pipeline run appends
    to its log: the pipeline's time, then the final flush's."""
    handle = el.configure(db_path, console=False, provider_routes=emulator_routes(emulator))
    try:
        took = _enrich(emulator, leads)
        started = time.perf_counter()
        assert handle.flush(600)
        return took, time.perf_counter() - started
    finally:
        handle.shutdown()


def measure(arguments: dict[str, Any]) -> dict[str, Any]:
    emulator = RemoteEmulator(arguments["base_url"])
    rounds, leads = arguments["rounds"], arguments["leads"]
    times: dict[str, list[float]] = {"bare": [], "enrichment_logs": []}
    flushes: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        db_path = Path(scratch) / "pipeline.duckdb"
        _enrich(emulator, 10)  # imports and connections warm
        _instrumented(emulator, 10, db_path)  # the log, its published lake, extensions loaded
        for _ in range(rounds):
            order = list(times)
            random.shuffle(order)
            for mode in order:
                if mode == "bare":
                    times[mode].append(_enrich(emulator, leads))
                    continue
                took, flushed = _instrumented(emulator, leads, db_path)
                times[mode].append(took)
                flushes.append(flushed)
    ratios = [
        ours / bare for ours, bare in zip(times["enrichment_logs"], times["bare"], strict=True)
    ]
    return {
        "rounds": rounds,
        "leads_per_round": leads,
        "calls_per_round": leads * 4,
        "median_seconds": {
            mode: round(statistics.median(values), 3) for mode, values in times.items()
        },
        "added_percent": round((statistics.median(ratios) - 1) * 100, 2),
        "added_percent_per_round": [round((ratio - 1) * 100, 2) for ratio in ratios],
        "median_final_flush_seconds": round(statistics.median(flushes), 3),
    }


def run(rounds: int = ROUNDS, leads: int = LEADS) -> dict[str, Any]:
    results = {}
    for name, latency in (("provider_latency", LATENCY), ("no_latency", {})):
        with emulator_process(latency) as base_url:
            results[name] = run_measurement(
                __name__, {"base_url": base_url, "rounds": rounds, "leads": leads}
            )
    return {
        "benchmark": "pipeline_overhead",
        "latency_seconds": LATENCY,
        **results,
        "goal_percent": GOAL_PERCENT,
        "goal_met": results["provider_latency"]["added_percent"] < GOAL_PERCENT,
    }


def main(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    return write_result(results_dir, "pipeline_overhead", run(3 if quick else ROUNDS))


if __name__ == "__main__":
    import json

    print(json.dumps(measure(measurement_arguments())))
