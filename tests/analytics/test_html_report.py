"""A user without Grafana opens the HTML report in a browser and sees the figures the API gives.

The page is rendered from a real DuckDB file filled through the exporter, opened in real headless
Chromium (Debian's package, installed on first use), screenshotted, and read back from the DOM
Chromium built, so what is checked is what a browser shows.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from enrichment_logs import semconv
from enrichment_logs.analytics import (
    AnalyticsError,
    UsagePoint,
    get_cost_per_enrichment,
    get_enrichment_costs,
    get_lead_cost_details,
    get_performance_metrics,
    get_top_leads,
    get_usage_trends,
)
from enrichment_logs.analytics.html_report import render_report
from tests.analytics.cli_runs import parsed, run
from tests.analytics.conftest import CALLS, Call, at, utc, write_calls
from tests.debian import require_command

HOSTILE_LEAD = '<script>alert("lead")</script>'
HOSTILE_COMPANY = "<b>Evil & Co</b>"
HOSTILE_MODEL = '"><img src=x onerror=alert(1)>'
COMPONENTS = {"CostBreakdown", "PerformanceCharts", "UsageTrends", "LeadCostDetails"}
TIMES = "\u00d7"  # the multiplication sign between an error type and its count
BROWSER_TIMEOUT_S = 90
WINDOW = (1280, 2400)

# The shared known calls, plus a lead whose ids and model were typed by someone hostile.
REPORT_CALLS: tuple[Call, ...] = (
    *CALLS,
    Call(
        at("2024-03-06T11:00:00+00:00"),
        "openai",
        "chat.completions.create",
        900,
        "0.02",
        "s5",
        HOSTILE_LEAD,
        HOSTILE_COMPANY,
        model=HOSTILE_MODEL,
        usage={semconv.GEN_AI_USAGE_INPUT_TOKENS: 4000, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 250},
    ),
)


# --- reading a DOM back ------------------------------------------------------------------------
@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        wanted = {key.replace("_", "-"): value for key, value in attrs.items()}
        return [
            element
            for element in self.walk()
            if (tag is None or element.tag == tag)
            and all(element.attrs.get(key) == value for key, value in wanted.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        (found,) = self.find_all(tag, **attrs)
        return found

    def data(self, name: str) -> str:
        return self.attrs[f"data-{name}"]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "hr", "input", "link", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {key: value or "" for key, value in attrs})
        self._open[-1].children.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def words(text: str) -> str:
    return " ".join(text.split())


# --- the browser ---------------------------------------------------------------------------------
def chromium(page: Path, profile: Path, *arguments: str) -> str:
    """Run headless Chromium on the file, offline, and return what it printed."""
    command = require_command("chromium", "chromium")
    done = subprocess.run(
        [
            command,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
        check=False,
        env={"HOME": str(profile), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def png_pixels(png: bytes) -> bytes:
    """The image's (filtered) pixel bytes: enough to tell a drawn page from a blank one."""
    chunks, offset = [], 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return zlib.decompress(b"".join(chunks))


@dataclass(frozen=True)
class Rendered:
    db: Path
    html: str
    dom: Element
    screenshot: bytes


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    directory = tmp_path_factory.mktemp("html_report")
    db = write_calls(directory / "report.duckdb", REPORT_CALLS)
    html = render_report(db, lead_id=HOSTILE_LEAD)
    page = directory / "report.html"
    page.write_text(html, encoding="utf-8")
    profile = directory / "chromium-profile"
    dom = chromium(page, profile, "--dump-dom")
    screenshot = directory / "report.png"
    chromium(page, profile, f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    return Rendered(db, html, parse(dom), screenshot.read_bytes())


def test_the_browser_draws_the_page_with_all_four_components(rendered: Rendered) -> None:
    sections = rendered.dom.find_all("section")
    assert {section.data("component") for section in sections} == COMPONENTS
    assert rendered.dom.one("head").one("title").text.startswith("Enrichment costs")

    assert png_size(rendered.screenshot) == WINDOW
    assert len(set(png_pixels(rendered.screenshot))) > 64  # not a blank page


def test_cost_breakdown_shows_the_apis_costs_and_unknown_costs_apart(rendered: Rendered) -> None:
    report = get_enrichment_costs(rendered.db, group_by=("provider", "operation", "model"))
    section = rendered.dom.one("section", id="cost-breakdown")

    summary = rendered.dom.one("div", data_figure="known_cost")
    assert Decimal(summary.data("value")) == report.totals.known_cost == Decimal("0.0489")
    assert "$0.0489" in words(summary.text)
    unknown = rendered.dom.one("div", data_figure="unknown_cost_calls")
    assert int(unknown.data("value")) == report.totals.unknown_cost_calls == 2

    shown = [
        (
            row.data("provider"),
            row.data("operation"),
            row.data("model") or None,
            int(row.data("calls")),
            int(row.data("priced-calls")),
            int(row.data("unknown-cost-calls")),
            Decimal(row.data("known-cost")),
        )
        for row in section.find_all("tr")
        if "cost-row" in row.classes
    ]
    assert shown == [
        (
            group.key["provider"],
            group.key["operation"],
            group.key["model"],
            group.calls,
            group.priced_calls,
            group.unknown_cost_calls,
            group.known_cost,
        )
        for group in report.breakdown
    ]
    # Perplexity's only call has no known cost: it reads "unknown", never "$0", and has no bar.
    (perplexity,) = [
        r for r in section.find_all("tr") if r.attrs.get("data-provider") == "perplexity"
    ]
    assert "unknown" in words(perplexity.text)
    assert "$0" not in perplexity.text
    bar = section.one("g", data_provider="perplexity")
    assert bar.find_all("rect") == []
    assert "unknown (1 call)" in words(bar.text)


def test_performance_shows_success_rates_and_latency_percentiles(rendered: Rendered) -> None:
    performance = get_performance_metrics(rendered.db)
    section = rendered.dom.one("section", id="performance")
    rows = [row for row in section.find_all("tr") if "performance-row" in row.classes]

    assert len(rows) == len(performance.operations)
    for row, expected in zip(rows, performance.operations, strict=True):
        assert (row.data("provider"), row.data("operation")) == (
            expected.provider,
            expected.operation,
        )
        assert int(row.data("calls")) == expected.calls
        assert float(row.data("success-rate")) == expected.success_rate
        assert float(row.data("p50-duration-ms")) == expected.p50_duration_ms
        assert float(row.data("p95-duration-ms")) == expected.p95_duration_ms
        errors = {
            badge.data("error-type"): int(badge.data("errors"))
            for badge in row.find_all("span")
            if "data-error-type" in badge.attrs
        }
        assert errors == performance.errors_by_type(expected.provider, expected.operation)
        assert len(row.find_all("circle")) == 2  # the p50 dot and the p95 ring

    openai = rows[[r.data("provider") for r in rows].index("openai")]
    assert f"RateLimitError {TIMES} 1" in words(openai.text)
    assert f"TimeoutError {TIMES} 1" in words(openai.text)


def test_usage_trends_chart_every_providers_calls_tokens_credits_and_cost_per_day(
    rendered: Rendered,
) -> None:
    trends = get_usage_trends(rendered.db, interval="day")
    section = rendered.dom.one("section", id="usage-trends")
    assert section.data("interval") == "day"

    figures: dict[str, Callable[[UsagePoint], int | Decimal]] = {
        "calls": lambda point: point.calls,
        "tokens": lambda point: point.input_tokens + point.output_tokens,
        "credits": lambda point: point.credits,
        "known_cost": lambda point: point.known_cost,
    }
    for metric, figure in figures.items():
        chart = section.one("svg", data_metric=metric)
        drawn = {
            (rect.data("bucket"), rect.data("series")): Decimal(rect.data("value"))
            for rect in chart.find_all("rect")
        }
        expected = {
            (point.bucket_start.isoformat(), point.provider): Decimal(figure(point))
            for point in trends.points
            if figure(point) > 0
        }
        assert drawn == expected, metric
        assert expected  # every metric has something to draw in this data
    labels = [words(text.text) for text in section.one("svg", data_metric="calls").find_all("text")]
    assert {"4 Mar", "5 Mar", "6 Mar", "7 Mar"} <= set(labels)


def test_lead_costs_rank_leads_and_companies_and_list_one_leads_calls(
    rendered: Rendered,
) -> None:
    top = get_top_leads(rendered.db, 10)
    per_enrichment = get_cost_per_enrichment(rendered.db)
    section = rendered.dom.one("section", id="lead-costs")

    leads = [
        (row.data("lead-id"), Decimal(row.data("known-cost")), row.data("enriched"))
        for row in section.find_all("tr")
        if "lead-row" in row.classes
    ]
    assert leads == [
        (lead.lead_id, lead.known_cost, str(lead.enriched).lower()) for lead in top.leads
    ]
    companies = [
        (row.data("company-id"), int(row.data("leads")), Decimal(row.data("known-cost")))
        for row in section.find_all("tr")
        if "company-row" in row.classes
    ]
    assert companies == [(c.company_id, c.leads, c.known_cost) for c in top.companies]
    for unit in (per_enrichment.per_session, per_enrichment.per_enriched_lead):
        row = section.one("tr", data_unit=unit.unit)
        assert int(row.data("priced")) == unit.priced
        assert Decimal(row.data("p50-cost")) == unit.p50_cost

    details = get_lead_cost_details(rendered.db, HOSTILE_LEAD)
    block = section.one("div", id="lead-details")
    assert block.data("lead-id") == HOSTILE_LEAD
    assert Decimal(block.data("known-cost")) == details.totals.known_cost == Decimal("0.02")
    calls = [row for row in block.find_all("tr") if "lead-call" in row.classes]
    assert [row.data("id") for row in calls] == [str(call.id) for call in details.calls]
    assert HOSTILE_MODEL in words(calls[0].text)


def test_the_page_is_self_contained_and_escapes_what_users_typed(rendered: Rendered) -> None:
    elements = list(rendered.dom.walk())
    assert not [e for e in elements if e.tag in {"script", "img", "iframe", "link", "object"}]
    assert not [e for e in elements if e.tag == "b"]  # the company name stays text
    assert not [
        (e.tag, name)
        for e in elements
        for name in e.attrs
        if name.startswith("on") or name in {"src", "href", "xlink:href", "action", "srcset"}
    ]
    assert not re.search(r"https?:|url\(|@import|<script", rendered.html, re.IGNORECASE)
    # What the hostile lead typed is shown, as text.
    lead_row = rendered.dom.one("tr", data_lead_id=HOSTILE_LEAD)
    assert HOSTILE_LEAD in lead_row.text
    assert HOSTILE_COMPANY in lead_row.text


# --- without a browser: filters, empty logs and bad input --------------------------------------
def test_a_filtered_report_shows_the_filtered_figures(rendered: Rendered) -> None:
    week = (utc(2024, 3, 5), utc(2024, 3, 8))
    html = render_report(rendered.db, date_range=week, provider="exa")
    dom = parse(html)

    report = get_enrichment_costs(rendered.db, date_range=week, provider="exa")
    summary = dom.one("div", data_figure="known_cost")
    assert Decimal(summary.data("value")) == report.totals.known_cost == Decimal("0.020")
    assert {row.data("provider") for row in dom.find_all("tr") if "cost-row" in row.classes} == {
        "exa"
    }
    assert dom.one("section", id="usage-trends").data("interval") == "day"
    assert "provider exa" in words(dom.one("p", **{"class": "meta"}).text)
    assert dom.find_all("div", id="lead-details") == []


def test_a_report_over_less_than_two_days_is_hourly(rendered: Rendered) -> None:
    day = (utc(2024, 3, 4), utc(2024, 3, 5))
    dom = parse(render_report(rendered.db, date_range=day))

    section = dom.one("section", id="usage-trends")
    assert section.data("interval") == "hour"
    buckets = {rect.data("bucket") for rect in section.find_all("rect")}
    assert buckets == {"2024-03-04T10:00:00+00:00"}


# The shared calls start on 2024-03-04 and end on 2024-03-07 (UTC).
TWO_CALLS_APART = {
    "hours": ("2024-03-04T10:00:00+00:00", "2024-03-05T09:00:00+00:00"),
    "months": ("2024-01-02T10:00:00+00:00", "2024-06-28T09:00:00+00:00"),
}


@pytest.mark.parametrize(
    ("log", "window", "interval"),
    [
        ("shared", (), "day"),  # all calls: 3 days
        ("shared", ("--from", "2024-03-04T12:00", "--to", "2024-03-06"), "hour"),  # 36 h, 3 days
        ("shared", ("--from", "2024-03-01", "--to", "2024-03-11"), "day"),
        ("shared", ("--from", "2024-01-01", "--to", "2024-07-01"), "week"),
        ("hours", (), "hour"),  # all calls: 23 hours
        ("months", (), "week"),  # all calls: 6 months
    ],
)
def test_the_terminal_and_the_html_report_chart_trends_at_the_same_interval(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    log: str,
    window: tuple[str, ...],
    interval: str,
) -> None:
    if log != "shared":
        calls = tuple(Call(at(moment), "exa", "search", 50) for moment in TWO_CALLS_APART[log])
        db = write_calls(tmp_path / "log.duckdb", calls)
    page = tmp_path / "report.html"

    code, out, _ = run(capsys, "report", "--db", str(db), *window, "--format", "json")
    assert code == 0
    written = run(capsys, "report", "--db", str(db), *window, "--format", "html", "-o", str(page))
    assert written[0] == 0

    assert parsed(out)["trends"]["interval"] == interval
    assert parse(page.read_text()).one("section", id="usage-trends").data("interval") == interval


def test_an_empty_log_renders_a_page_that_says_so(empty_db: Path) -> None:
    dom = parse(render_report(empty_db))

    assert {s.data("component") for s in dom.find_all("section")} == COMPONENTS
    assert dom.one("div", data_figure="calls").data("value") == "0"
    assert "No calls in this range." in words(dom.one("section", id="cost-breakdown").text)
    assert "No calls in this range." in words(dom.one("section", id="usage-trends").text)


def test_a_lead_without_calls_is_reported_as_such(rendered: Rendered) -> None:
    dom = parse(render_report(rendered.db, lead_id="lead'; DROP TABLE enrichment_logs; --"))

    block = dom.one("div", id="lead-details")
    assert block.data("calls") == "0"
    assert "This lead has no calls." in words(block.text)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"date_range": (utc(2024, 3, 8), utc(2024, 3, 1))}, "ends"),
        ({"lead_id": 42}, "lead_id must be a string"),
        ({"provider": ["exa"]}, "provider must be a string"),
    ],
)
def test_bad_arguments_get_a_clear_error(
    rendered: Rendered, arguments: Mapping[str, object], message: str
) -> None:
    with pytest.raises(AnalyticsError, match=message):
        render_report(rendered.db, **arguments)  # type: ignore[arg-type]


def test_a_missing_database_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="does not exist"):
        render_report(tmp_path / "nowhere.duckdb")
