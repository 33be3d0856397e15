"""The `enrichment-logs` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enrichment-logs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a scripted enrichment that writes rows")
    demo.add_argument("--db", type=Path, default=Path("demo.duckdb"), help="DuckDB file")
    demo.add_argument("--leads", type=int, default=10, help="how many leads to enrich")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from enrichment_logs import demo as demo_module

        if args.leads < 1:
            parser.error("--leads must be at least 1")
        return demo_module.main(args.db, args.leads)
    return 2


if __name__ == "__main__":
    sys.exit(main())
