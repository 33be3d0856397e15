"""The seed's analytics page as one self-contained HTML file: no server, no JavaScript, no network.

`render_report` gathers every figure from the analytics API (so the page shows exactly what the
Python API, the CLI and the SQL views give), lays out the charts in Python (`svg_charts`), and
renders the Jinja templates in `templates/`, one per seed component: CostBreakdown,
PerformanceCharts, UsageTrends and LeadCostDetails. Styles are inline and the charts are SVG,
so the file opens anywhere, offline, and can be mailed or archived as it is. Lead ids, company
ids and model names come from users: the templates autoescape every value.

Usage::

    from enrichment_logs.analytics.html_report import render_report

    Path("report.html").write_text(render_report("demo.duckdb"), encoding="utf-8")
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import duckdb
import jinja2

from enrichment_logs.analytics.connection import Database, reading
from enrichment_logs.analytics.costs import get_cost_per_enrichment, get_enrichment_costs
from enrichment_logs.analytics.filters import DateRange, check_date_range
from enrichment_logs.analytics.leads import get_lead_cost_details, get_top_leads
from enrichment_logs.analytics.performance import get_performance_metrics
from enrichment_logs.analytics.results import (
    CostGroup,
    OperationPerformance,
    UsagePoint,
    UsageTrends,
)
from enrichment_logs.analytics.svg_charts import (
    BarChart,
    BarItem,
    ColumnChart,
    RangeChart,
    RangeItem,
    SeriesPoint,
    bar_chart,
    column_chart,
    range_chart,
)
from enrichment_logs.analytics.usage import first_and_last_call, get_usage_trends, readable_interval

TOP_N: Final = 10
"""How many leads and companies the page ranks."""

PROVIDER_COLORS: Final[Mapping[str, str]] = {
    "openai": "#12b886",
    "perplexity": "#228be6",
    "exa": "#7950f2",
    "firecrawl": "#fd7e14",
}
_OTHER_COLORS: Final = ("#e64980", "#15aabf", "#fab005", "#82c91e", "#be4bdb", "#868e96")

NO_FIGURE: Final = "\u2013"
"""An en dash: what the page shows where a figure does not exist (no call reached a provider)."""


def render_report(
    db: Database,
    *,
    date_range: DateRange | None = None,
    provider: str | None = None,
    lead_id: str | None = None,
    exact: bool = False,
) -> str:
    """The analytics page for the calls in `date_range` (half-open, aware) and of `provider`.

    With `lead_id`, the page also lists that lead's calls; `exact` asks for latency percentiles
    of every call instead of a sample (see `get_performance_metrics`). The top leads, companies
    and cost per enrichment cover every provider (a lead's enrichment spans them all); one
    lead's details cover all of its calls. Raises `AnalyticsError` for a database that cannot
    be read.
    """
    check_date_range(date_range)
    with reading(db) as connection:
        figures = _gather(connection, date_range, provider, lead_id, exact)
        source = _source_name(db, connection)
    scope = _Scope(source, date_range, provider, datetime.now(UTC))
    return _template().render(scope=scope, **figures)


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the page covers, for its header."""

    source: str
    date_range: DateRange | None
    provider: str | None
    generated_at: datetime


def _gather(
    connection: duckdb.DuckDBPyConnection,
    date_range: DateRange | None,
    provider: str | None,
    lead_id: str | None,
    exact: bool,
) -> dict[str, Any]:
    """Every figure the page shows, as the analytics API returns it, and the charts of them."""
    filters: dict[str, Any] = {"date_range": date_range, "provider": provider}
    costs = get_enrichment_costs(connection, group_by=("provider", "operation", "model"), **filters)
    by_provider = get_enrichment_costs(connection, group_by=("provider",), **filters)
    performance = get_performance_metrics(connection, exact=exact, **filters)
    calls = None if date_range else first_and_last_call(connection, provider=provider)
    interval = readable_interval(date_range, calls)
    trends = get_usage_trends(
        connection, interval=interval, date_range=date_range, provider=provider
    )
    colors = _provider_colors(group.key["provider"] for group in by_provider.breakdown)
    operations = performance.operations
    reached = sum(row.successes + row.errors for row in operations)
    return {
        "costs": costs,
        "by_provider": by_provider,
        "performance": performance,
        "trends": trends,
        "top": get_top_leads(connection, TOP_N, date_range=date_range),
        "per_enrichment": get_cost_per_enrichment(connection, date_range=date_range),
        "lead": None if lead_id is None else get_lead_cost_details(connection, lead_id),
        "colors": colors,
        "success_rate": None if reached == 0 else sum(r.successes for r in operations) / reached,
        "errors": sum(row.errors for row in operations),
        "retries": sum(row.retries for row in operations),
        "days": None if calls is None else (calls[0].date(), calls[1].date()),  # UTC days
        "cost_chart": _cost_chart(by_provider.breakdown, colors),
        "latency_chart": _latency_chart(operations),
        "trend_charts": _trend_charts(trends, colors),
        "unknown_in_trends": sum(point.unknown_cost_calls for point in trends.points),
    }


def _source_name(db: Database, connection: duckdb.DuckDBPyConnection) -> str:
    if isinstance(db, str | Path):
        return Path(db).name
    found = connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(found[0]).name if found and found[0] else "in-memory database"


def _provider_colors(providers: Iterable[str]) -> dict[str, str]:
    """The four known providers keep their colours; others take the rest in name order."""
    others = itertools.cycle(_OTHER_COLORS)
    return {
        name: PROVIDER_COLORS.get(name) or next(others)
        for name in sorted(set(providers), key=lambda name: (name not in PROVIDER_COLORS, name))
    }


# --- charts ------------------------------------------------------------------------------------
def _cost_chart(groups: Iterable[CostGroup], colors: Mapping[str, str]) -> BarChart:
    """Known cost per provider; a provider whose calls were never priced gets no bar at all."""
    items = []
    for group in groups:
        name = group.key["provider"]
        unknown = calls(group.unknown_cost_calls)
        priced = group.priced_calls > 0
        items.append(
            BarItem(
                label=name,
                value=float(group.known_cost) if priced else None,
                shown=usd(group.known_cost) if priced else f"unknown ({unknown})",
                color=colors[name],
                note=f"+ {unknown} of unknown cost" if priced and group.unknown_cost_calls else "",
                data={"data-provider": name, "data-known-cost": str(group.known_cost)},
            )
        )
    return bar_chart(items, width=1000, label_width=130, value_width=320)


def _latency_chart(rows: Iterable[OperationPerformance]) -> RangeChart:
    """Median to p95 per operation, on one scale (drawn row by row in the performance table)."""
    return range_chart(
        [RangeItem(row.p50_duration_ms, row.p95_duration_ms) for row in rows], milliseconds
    )


@dataclass(frozen=True, slots=True)
class _Metric:
    name: str
    title: str
    label: Any


def _trend_charts(trends: UsageTrends, colors: Mapping[str, str]) -> list[tuple[str, ColumnChart]]:
    """Calls, tokens, credits and known cost per bucket, stacked by provider."""
    metrics = (
        _Metric("calls", "Calls", compact),
        _Metric("tokens", "Tokens (input + output)", compact),
        _Metric("credits", "Firecrawl credits", compact),
        _Metric("known_cost", "Known cost (USD)", axis_usd),
    )
    points = trends.points
    keys = sorted({point.bucket_start for point in points})
    buckets = [(key.isoformat(), bucket_label(key, trends.interval)) for key in keys]
    by_key = {(point.bucket_start, point.provider): point for point in points}
    providers = [name for name in colors if any(p.provider == name for p in points)]
    charts = []
    for metric in metrics:
        series = {
            name: [_series_point(by_key.get((key, name)), metric.name) for key in keys]
            for name in providers
        }
        chart = column_chart(metric.name, buckets, series, colors, metric.label)
        charts.append((metric.title, chart))
    return charts


def _series_point(point: UsagePoint | None, metric: str) -> SeriesPoint:
    if point is None:
        return SeriesPoint(0.0, "0")
    value: int | Decimal
    if metric == "tokens":
        value = point.input_tokens + point.output_tokens
    else:
        value = getattr(point, metric)
    return SeriesPoint(float(value), str(value))


# --- formats (also the templates' filters) -----------------------------------------------------
def usd(value: Decimal | float | None) -> str:
    """Dollars: cents from $1 up, four significant digits below (calls cost fractions of a
    cent); None (unknown) is never shown as $0."""
    if value is None:
        return "unknown"
    amount = Decimal(str(value)) if isinstance(value, float) else value
    if amount == 0:
        return "$0"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    text = f"{amount.normalize():.{max(4 - amount.adjusted() - 1, 0)}f}"
    return "$" + (text.rstrip("0").rstrip(".") if "." in text else text)


def axis_usd(value: float) -> str:
    return usd(Decimal(repr(value)))


def compact(value: float | int | Decimal) -> str:
    """1,234 up to ten thousand, then 12.3k, 4.5M."""
    number = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(number) >= size:
            return f"{number / size:.3g}{suffix}"
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:.3g}"


def number(value: int) -> str:
    return f"{value:,}"


def calls(value: int) -> str:
    return f"{value:,} call" if value == 1 else f"{value:,} calls"


def percent(share: float | None) -> str:
    if share is None:
        return NO_FIGURE
    text = f"{share * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def milliseconds(value: float | None) -> str:
    if value is None:
        return NO_FIGURE
    if value >= 1000:
        return f"{value / 1000:.2f}".rstrip("0").rstrip(".") + " s"
    return f"{value:.0f} ms"


def bucket_label(start: datetime, interval: str) -> str:
    moment = start.astimezone(UTC)
    if interval == "hour":
        return f"{moment.day} {moment:%b %H}:00"
    if interval == "week":
        return f"wk {moment.day} {moment:%b}"
    return f"{moment.day} {moment:%b}"


def timestamp(moment: datetime | None) -> str:
    return NO_FIGURE if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("enrichment_logs.analytics", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        usd=usd,
        compact=compact,
        number=number,
        calls=calls,
        percent=percent,
        ms=milliseconds,
        timestamp=timestamp,
    )
    return environment.get_template("report.html.j2")
