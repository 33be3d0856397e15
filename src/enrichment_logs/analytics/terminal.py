"""The analytics results as terminal tables (`rich`), small bar charts and sparklines.

Drawn to fit an 80-column terminal: names are cut with an ellipsis rather than wrapped, and only
the figures a glance needs are shown (the JSON output has every field). Costs are US dollars; a
call whose cost is unknown is counted in its own column, never shown as $0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from enrichment_logs.analytics.filters import DateRange
from enrichment_logs.analytics.results import (
    CompanyCost,
    CostFigures,
    CostGroup,
    ErrorCount,
    LeadCall,
    LeadCost,
    LeadCostDetails,
    PerformanceReport,
    UsagePoint,
    columns_of,
)

BAR_WIDTH: Final = 12
SPARK_WIDTH: Final = 18
NAME_WIDTH: Final = 24
"""Longer names (operations, leads, companies) are cut with an ellipsis."""
_BLOCKS: Final = " ▏▎▍▌▋▊▉█"
_SPARKS: Final = "▁▂▃▄▅▆▇█"


# --- figures --------------------------------------------------------------------------------
def usd(value: Decimal | None) -> str:
    """Dollars to the cent above $100, to a millionth below (single calls cost fractions)."""
    if value is None:
        return "unknown"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.6f}"


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def count(value: int | Decimal | None) -> str:
    """Calls, tokens or credits; whole credits without their decimals."""
    if value is None:
        return "-"
    if isinstance(value, int) or value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `fraction` (0..1) of `width` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (_BLOCKS[rest] if rest else "")).ljust(width)


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """One character per value (values summed in runs when there are more than `width`)."""
    if len(values) > width:
        size = -(-len(values) // width)  # ceiling
        values = [sum(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(values, default=0.0)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[round(value / top * (len(_SPARKS) - 1))] for value in values)


# --- tables ---------------------------------------------------------------------------------
def _table(title: str | None, *columns: tuple[str, str]) -> Table:
    """A table with a rule under its header, two spaces between columns and no outer edge, so
    that it fits 80 columns; each column is (header, "l" or "r"); names are cut, not wrapped."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        min_width=len(title or ""),  # a title wider than the columns would wrap
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for header, side in columns:
        if side == "r":
            table.add_column(header, justify="right", no_wrap=True)
        else:
            table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=NAME_WIDTH)
    return table


def totals_line(totals: CostFigures, what: str = "calls") -> Text:
    unknown = (
        f", {totals.unknown_cost_calls:,} of unknown cost" if totals.unknown_cost_calls else ""
    )
    return Text(f"{totals.calls:,} {what}, ${usd(totals.known_cost)} known{unknown}")


def cost_breakdown(groups: Iterable[CostGroup], keys: Sequence[str], title: str) -> Table:
    """Cost per group, most expensive first, with each group's share of the known cost."""
    rows = list(groups)
    total = sum((group.known_cost for group in rows), Decimal(0))
    table = _table(
        title,
        *[(key, "l") for key in keys],
        ("calls", "r"),
        ("unknown", "r"),
        ("USD", "r"),
        ("share", "l"),
    )
    for group in rows:
        share = float(group.known_cost / total) if total else 0.0
        table.add_row(
            *[_text(group.key[key]) for key in keys],
            count(group.calls),
            count(group.unknown_cost_calls) if group.unknown_cost_calls else "",
            usd(group.known_cost),
            Text(bar(share), style="cyan"),
        )
    return table


def performance(report: PerformanceReport) -> Table:
    """Per provider and operation; a note under the table when the percentiles are sampled."""
    table = _table(
        "Performance in ms (of the calls that reached the provider)",
        ("provider", "l"),
        ("operation", "l"),
        ("calls", "r"),
        ("success", "r"),
        ("p50", "r"),
        ("p95", "r"),
        ("retries", "r"),
    )
    for row in report.operations:  # p99 is in the JSON and CSV; two percentiles fit 80 columns
        table.add_row(
            row.provider,
            row.operation,
            count(row.calls),
            Text(percent(row.success_rate), style=_rate_style(row.success_rate)),
            milliseconds(row.p50_duration_ms),
            milliseconds(row.p95_duration_ms),
            count(row.retries),
        )
    if not report.percentiles_exact:
        sample = report.percentile_sample
        table.caption = f"p50 and p95 of a fixed sample, 1 call in {sample:,} (--exact: every call)"
        table.caption_justify = "left"
        table.min_width = max(table.min_width or 0, len(table.caption))  # one line, not wrapped
    return table


def errors(counts: Iterable[ErrorCount]) -> Table:
    table = _table("Errors by type", ("provider", "l"), ("operation", "l"), ("error", "l"))
    table.add_column("calls", justify="right", no_wrap=True)
    for row in counts:
        table.add_row(row.provider, row.operation, _text(row.error_type), count(row.errors))
    return table


def usage_trends(points: Iterable[UsagePoint], interval: str) -> Table:
    """Per provider: totals over the range and a sparkline of cost per interval."""
    points = list(points)
    buckets = sorted({point.bucket_start for point in points})
    by_provider: dict[str, dict[datetime, UsagePoint]] = {}
    for point in points:
        by_provider.setdefault(point.provider, {})[point.bucket_start] = point
    span = (
        " to ".join(sorted({_moment(buckets[0]), _moment(buckets[-1])})) if buckets else "no calls"
    )
    table = _table(
        f"Usage per {interval} ({span}, UTC)",
        ("provider", "l"),
        ("calls", "r"),
        ("tokens in", "r"),
        ("out", "r"),
        ("credits", "r"),
        ("USD", "r"),
        (f"USD per {interval}", "l"),
    )
    for provider, series in sorted(by_provider.items()):
        rows = list(series.values())
        costs = [float(series[b].known_cost) if b in series else 0.0 for b in buckets]
        table.add_row(
            provider,
            count(sum(row.calls for row in rows)),
            count(sum(row.input_tokens for row in rows)),
            count(sum(row.output_tokens for row in rows)),
            count(sum((row.credits for row in rows), Decimal(0))),
            usd(sum((row.known_cost for row in rows), Decimal(0))),
            Text(sparkline(costs), style="green"),
        )
    return table


def top_leads(leads: Iterable[LeadCost]) -> Table:
    rows = list(leads)
    top = max((lead.known_cost for lead in rows), default=Decimal(0))
    table = _table(
        "Most expensive leads",
        ("lead", "l"),
        ("company", "l"),
        ("calls", "r"),
        ("failed", "r"),
        ("USD", "r"),
        ("", "l"),
    )
    for lead in rows:
        table.add_row(
            _text(lead.lead_id),
            _text(lead.company_id),
            count(lead.calls),
            count(lead.failed_calls) if lead.failed_calls else "",
            usd(lead.known_cost) + ("+?" if lead.unknown_cost_calls else ""),
            Text(bar(float(lead.known_cost / top) if top else 0.0), style="cyan"),
        )
    _note_unknown(table, any(lead.unknown_cost_calls for lead in rows))
    return table


def top_companies(companies: Iterable[CompanyCost]) -> Table:
    rows = list(companies)
    top = max((company.known_cost for company in rows), default=Decimal(0))
    table = _table(
        "Most expensive companies",
        ("company", "l"),
        ("leads", "r"),
        ("calls", "r"),
        ("USD", "r"),
        ("", "l"),
    )
    for company in rows:
        table.add_row(
            _text(company.company_id),
            count(company.leads),
            count(company.calls),
            usd(company.known_cost) + ("+?" if company.unknown_cost_calls else ""),
            Text(bar(float(company.known_cost / top) if top else 0.0), style="cyan"),
        )
    _note_unknown(table, any(company.unknown_cost_calls for company in rows))
    return table


def lead_calls(calls: Iterable[LeadCall]) -> Table:
    table = _table(
        "Calls",
        ("started UTC", "l"),
        ("provider", "l"),
        ("operation", "l"),
        ("status", "l"),
        ("ms", "r"),
        ("USD", "r"),
    )
    for call in calls:
        table.add_row(
            call.started_at.strftime("%m-%d %H:%M:%S"),
            call.provider,
            call.operation,
            Text(call.status, style=_status_style(call.status)),
            milliseconds(call.duration_ms),
            usd(call.cost),
        )
    return table


def query_result(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Table:
    """Any query's rows, numbers to the right."""
    table = _table(None)
    numeric = {name for name in columns if rows and _is_number(rows[0].get(name))}
    for name in columns:
        right = name in numeric
        table.add_column(
            name, justify="right" if right else "left", overflow="ellipsis", no_wrap=right
        )
    for row in rows:
        table.add_row(*[_text(row.get(name)) for name in columns])
    return table


def lead_details(details: LeadCostDetails) -> Iterator[RenderableType]:
    """One lead: its totals, its cost by provider and operation, and its calls in time order."""
    keys = [name for name in details.breakdown.columns if name not in columns_of(CostFigures)]
    yield Text(f"\nLead {details.lead_id}", style="bold")
    yield totals_line(details.totals)
    if len(details.calls):
        yield cost_breakdown(details.breakdown, keys, "Its cost by provider and operation")
        yield lead_calls(details.calls)


def date_range_text(date_range: DateRange) -> str:
    start, end = (moment.astimezone(UTC) for moment in date_range)
    return f"{_moment(start)} to {_moment(end)} UTC"


# --- details --------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return _moment(value, seconds=True)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _moment(value: datetime, *, seconds: bool = False) -> str:
    """A UTC time, as short as the figures need: midnight shows as the date alone."""
    if seconds:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if (value.hour, value.minute) == (0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M")


def _note_unknown(table: Table, unknown: bool) -> None:
    if unknown:
        table.caption = "+? plus calls whose cost is unknown"
        table.caption_justify = "left"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _rate_style(rate: float | None) -> str:
    if rate is None:
        return ""
    return "green" if rate >= 0.99 else "yellow" if rate >= 0.9 else "red"


def _status_style(status: str) -> str:
    return {"success": "green", "error": "red", "cached": "blue"}.get(status, "yellow")
