"""The `enrichment-logs` command: one module per subcommand, each registering itself here.

Every subcommand module has `register(commands)`, which adds its parser and sets `handler` to the
function that runs it; handlers import their heavy dependencies lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from enrichment_logs.cli import (
    budget,
    demo,
    emulator,
    forget,
    ingest,
    leads,
    report,
    retain,
    sql,
    store,
    suggest,
    tail,
)

Handler = Callable[[argparse.Namespace], int]

SUBCOMMANDS = (
    demo,
    emulator,
    ingest,
    report,
    leads,
    tail,
    sql,
    budget,
    suggest,
    store,
    retain,
    forget,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enrichment-logs",
        description="Observability and cost control for lead-enrichment pipelines.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
