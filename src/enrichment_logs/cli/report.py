"""`enrichment-logs report`: what the calls cost, how the providers performed, usage over time.

The same figures as the Python API (`get_enrichment_costs`, `get_performance_metrics`,
`get_usage_trends`, and `get_lead_cost_details` with `--lead`), read in one go from one
connection, so the sections agree with each other. Works while a pipeline writes the file: the
reader falls back to the lake the writer publishes. `--format html` writes the
self-contained HTML page of the same options (`analytics.html_report`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from enrichment_logs.cli.log_options import (
    add_db_argument,
    add_time_arguments,
    date_range_of,
    db_of,
    reads_the_log,
)
from enrichment_logs.cli.output import Section, add_output_arguments, emit, write_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import RenderableType

    from enrichment_logs.analytics import (
        CostReport,
        DateRange,
        Interval,
        LeadCostDetails,
        PerformanceReport,
        UsageTrends,
    )
    from enrichment_logs.export.store_url import DuckLakeUrl


@dataclass(frozen=True, slots=True)
class Report:
    """The command's result; its JSON form is these fields as the API returns them."""

    costs: CostReport
    performance: PerformanceReport
    trends: UsageTrends
    lead: LeadCostDetails | None


def register(commands: argparse._SubParsersAction[Any]) -> None:
    report = commands.add_parser(
        "report",
        help="cost breakdown, performance and usage trends",
        description="Cost by provider and operation, provider performance and usage over time; "
        "works while a pipeline writes the database.",
    )
    add_db_argument(report)
    add_time_arguments(report)
    report.add_argument("--provider", help="only this provider's calls")
    report.add_argument("--lead", metavar="ID", help="add this lead's costs and calls")
    report.add_argument(
        "--exact",
        action="store_true",
        help="latency percentiles of every call, not of a sample (which they are beyond "
        "1,000,000 calls; exact takes ~1 s of CPU per 10 million calls)",
    )
    report.add_argument(
        "--interval",
        metavar="UNIT",
        help="hour, day or week for the trends (default: hour up to 2 days, day up to 120, "
        "else week)",
    )
    add_output_arguments(report, ("table", "json", "csv", "html"))
    report.set_defaults(handler=run)


@reads_the_log("report")
def run(args: argparse.Namespace) -> int:
    date_range = date_range_of(args)
    db = db_of(args)
    if args.format == "html":
        from enrichment_logs.analytics.html_report import render_report

        page = render_report(
            db, date_range=date_range, provider=args.provider, lead_id=args.lead, exact=args.exact
        )
        write_text(args, page)
        return 0
    report = build_report(db, date_range, args.provider, args.lead, args.interval, args.exact)
    return emit(args, report, _sections(report), lambda: _tables(report, db, date_range, args))


def build_report(
    db: Path | DuckLakeUrl,
    date_range: DateRange | None,
    provider: str | None,
    lead_id: str | None,
    interval: str | None,
    exact: bool,
) -> Report:
    from enrichment_logs import analytics
    from enrichment_logs.analytics.connection import reading
    from enrichment_logs.analytics.usage import first_and_last_call, readable_interval

    filters: dict[str, Any] = {"date_range": date_range, "provider": provider}
    with reading(db) as connection:
        if interval is None:
            calls = None if date_range else first_and_last_call(connection, provider=provider)
            interval = readable_interval(date_range, calls)
        chosen = cast("Interval", interval)  # checked by get_usage_trends
        return Report(
            costs=analytics.get_enrichment_costs(connection, **filters),
            performance=analytics.get_performance_metrics(connection, exact=exact, **filters),
            trends=analytics.get_usage_trends(connection, interval=chosen, **filters),
            lead=None if lead_id is None else analytics.get_lead_cost_details(connection, lead_id),
        )


def _sections(report: Report) -> list[Section]:
    sections = [
        Section("costs", report.costs.breakdown.columns, report.costs.rows()),
        Section("performance", report.performance.operations.columns, report.performance.rows()),
        Section("errors", report.performance.errors.columns, report.performance.errors.rows()),
        Section("trends", report.trends.points.columns, report.trends.rows()),
    ]
    if report.lead is not None:
        sections += [
            Section("lead_costs", report.lead.breakdown.columns, report.lead.rows()),
            Section("lead_calls", report.lead.calls.columns, report.lead.calls.rows()),
        ]
    return sections


def _tables(
    report: Report, db: Path | DuckLakeUrl, date_range: DateRange | None, args: argparse.Namespace
) -> Iterator[RenderableType]:
    from rich.text import Text

    from enrichment_logs.analytics import terminal

    scope = "all calls" if date_range is None else terminal.date_range_text(date_range)
    provider = f", provider {args.provider}" if args.provider else ""
    yield Text(f"enrichment-logs report: {db.name}, {scope}{provider}", style="bold")
    yield terminal.totals_line(report.costs.totals)
    yield terminal.cost_breakdown(
        report.costs.breakdown, report.costs.group_by, "Cost by provider and operation"
    )
    yield terminal.performance(report.performance)
    if len(report.performance.errors):
        yield terminal.errors(report.performance.errors)
    yield terminal.usage_trends(report.trends.points, report.trends.interval)
    if report.lead is not None:
        yield from terminal.lead_details(report.lead)
