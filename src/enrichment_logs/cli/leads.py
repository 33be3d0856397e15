"""`enrichment-logs leads`: the most expensive leads and companies, or one lead's details.

The figures of `get_top_leads` and, with `--lead`, `get_lead_cost_details` (every call of that
lead, whenever it was made).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from enrichment_logs.cli.arguments import positive_int
from enrichment_logs.cli.log_options import (
    UsageError,
    add_db_argument,
    add_time_arguments,
    date_range_of,
    db_of,
    reads_the_log,
)
from enrichment_logs.cli.output import Section, add_output_arguments, emit

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import RenderableType

    from enrichment_logs.analytics import TopSpenders


def register(commands: argparse._SubParsersAction[Any]) -> None:
    leads = commands.add_parser(
        "leads",
        help="the most expensive leads and companies, or one lead's costs and calls",
        description="The most expensive leads and companies, or with --lead one lead's cost by "
        "provider and operation and its calls; works while a pipeline writes the database.",
    )
    add_db_argument(leads)
    add_time_arguments(leads)
    leads.add_argument("-n", "--top", type=positive_int, default=10, help="how many (10)")
    leads.add_argument("--lead", metavar="ID", help="this lead's costs and every call it made")
    add_output_arguments(leads)
    leads.set_defaults(handler=run)


@reads_the_log("leads")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs import analytics
    from enrichment_logs.analytics import terminal

    date_range = date_range_of(args)
    db = db_of(args)
    if args.lead is None:
        top = analytics.get_top_leads(db, args.top, date_range=date_range)
        sections = [
            Section("leads", top.leads.columns, top.leads.rows()),
            Section("companies", top.companies.columns, top.companies.rows()),
        ]
        return emit(args, top, sections, lambda: _top_tables(top))
    if date_range is not None:
        raise UsageError("--lead shows every call of the lead: leave out --since, --from and --to")
    details = analytics.get_lead_cost_details(db, args.lead)
    sections = [
        Section("costs", details.breakdown.columns, details.rows()),
        Section("calls", details.calls.columns, details.calls.rows()),
    ]
    return emit(args, details, sections, lambda: terminal.lead_details(details))


def _top_tables(top: TopSpenders) -> Iterator[RenderableType]:
    from enrichment_logs.analytics import terminal

    yield terminal.top_leads(top.leads)
    yield terminal.top_companies(top.companies)
