"""`enrichment-logs forget --lead ID` / `--company ID`: erase one lead's or company's calls.

For a person or a company that asks to be erased: their rows, with the request and response
content captured in them, leave the store, its history (every older DuckLake snapshot, so time
travel cannot reach them) and the lake a DuckDB file's writer publishes; see `export.erasure`
for what lies beyond its reach (backups, `*.rejected` spool files).
"""

from __future__ import annotations

import argparse
from typing import Any

from enrichment_logs.cli.store_options import (
    add_store_argument,
    add_wait_argument,
    changes_the_store,
    delete_and_report,
)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    forget = commands.add_parser(
        "forget",
        help="erase one lead's or company's calls, with their content and history",
        description="Delete every call of a lead or a company from the store, its history "
        "(lake snapshots) and the lake its writer publishes.",
    )
    add_store_argument(forget)
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--lead", metavar="ID", help="the lead id whose calls to erase")
    who.add_argument("--company", metavar="ID", help="the company id whose calls to erase")
    add_wait_argument(forget)
    forget.set_defaults(handler=run)


@changes_the_store("forget")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs.export.erasure import company_rows, lead_rows

    selection = lead_rows(args.lead) if args.lead is not None else company_rows(args.company)
    return delete_and_report(args, selection)
