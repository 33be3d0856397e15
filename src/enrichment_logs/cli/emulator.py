"""`enrichment-logs emulator`: serve the provider emulator on loopback."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    emulator = commands.add_parser("emulator", help="serve the provider emulator on loopback")
    emulator.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (8787)")
    emulator.add_argument("--seed", type=int, default=0)
    emulator.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from enrichment_logs.emulator.__main__ import main as run_emulator

    run_emulator(["--port", str(args.port), "--seed", str(args.seed)])
    return 0
