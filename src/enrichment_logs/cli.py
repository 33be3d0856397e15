"""The `enrichment-logs` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _failure(text: str) -> tuple[str, float]:
    provider, separator, rate = text.partition("=")
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if not separator or not provider or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PROVIDER=RATE with RATE in 0..1")
    return provider, value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enrichment-logs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="enrich sample leads against the local emulator")
    demo.add_argument("--db", type=Path, default=Path("demo.duckdb"), help="DuckDB file")
    demo.add_argument("--leads", type=_positive, default=25, help="how many leads (25)")
    demo.add_argument("--seed", type=int, default=7, help="emulator seed (7)")
    demo.add_argument("--concurrency", type=_positive, default=5, help="leads at a time (5)")
    demo.add_argument(
        "--fail",
        type=_failure,
        action="append",
        default=[],
        metavar="PROVIDER=RATE",
        help="make the emulator fail this share of a provider's calls, e.g. exa=0.3",
    )

    emulator = commands.add_parser("emulator", help="serve the provider emulator on loopback")
    emulator.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (8787)")
    emulator.add_argument("--seed", type=int, default=0)

    args = parser.parse_args(argv)
    if args.command == "demo":
        from enrichment_logs.demo import DemoOptions
        from enrichment_logs.demo import main as run_demo

        options = DemoOptions(args.db, args.leads, args.seed, args.concurrency, dict(args.fail))
        return run_demo(options)
    if args.command == "emulator":
        from enrichment_logs.emulator.__main__ import main as run_emulator

        run_emulator(["--port", str(args.port), "--seed", str(args.seed)])
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
