"""`enrichment-logs demo`: enrich sample leads against the local emulator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from enrichment_logs.cli.arguments import failure_rate, positive_int


def register(commands: argparse._SubParsersAction[Any]) -> None:
    demo = commands.add_parser("demo", help="enrich sample leads against the local emulator")
    demo.add_argument("--db", type=Path, default=Path("demo.duckdb"), help="DuckDB file")
    demo.add_argument("--leads", type=positive_int, default=25, help="how many leads (25)")
    demo.add_argument("--seed", type=int, default=7, help="emulator seed (7)")
    demo.add_argument("--concurrency", type=positive_int, default=5, help="leads at a time (5)")
    demo.add_argument(
        "--fail",
        type=failure_rate,
        action="append",
        default=[],
        metavar="PROVIDER=RATE",
        help="make the emulator fail this share of a provider's calls, e.g. exa=0.3",
    )
    demo.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the HTML report (default: <db stem>-report.html next to --db)",
    )
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from enrichment_logs.demo import DemoOptions
    from enrichment_logs.demo import main as run_demo

    return run_demo(
        DemoOptions(args.db, args.leads, args.seed, args.concurrency, dict(args.fail), args.report)
    )
