"""`enrichment-logs retain --days N`: delete the calls that started more than N days ago.

On every store, with everything `export.erasure` does (history, the published lake). Meant
for a nightly cron job, e.g. `0 3 * * * enrichment-logs retain --days 90`: on a DuckLake it runs
beside the writers; a DuckDB file is waited for (`--wait`) while a pipeline holds it.
"""

from __future__ import annotations

import argparse
from typing import Any

from enrichment_logs.cli.arguments import positive_int
from enrichment_logs.cli.store_options import (
    add_store_argument,
    add_wait_argument,
    changes_the_store,
    delete_and_report,
)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    retain = commands.add_parser(
        "retain",
        help="delete calls older than N days, on every store (for a nightly cron job)",
        description="Delete every call that started more than N days ago, from the store, its "
        "history (lake snapshots) and the lake its writer publishes.",
    )
    add_store_argument(retain)
    retain.add_argument("--days", type=positive_int, required=True, help="days of calls to keep")
    add_wait_argument(retain)
    retain.set_defaults(handler=run)


@changes_the_store("retain")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs.export.erasure import rows_older_than

    return delete_and_report(args, rows_older_than(args.days))
