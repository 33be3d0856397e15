"""Live console cost lines: one per call, with the lead's running total, through logging."""

from __future__ import annotations

import contextlib
import logging
import re

import enrichment_logs as el


@el.tool("exa", "search", cost=lambda response: response["cost"])
def search(cost: str) -> dict[str, str]:
    return {"cost": cost}


@el.tool("firecrawl", "scrape")
def scrape() -> None:
    raise ConnectionError("site down")


def console_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.console"]


def test_each_call_is_one_line_with_the_leads_running_total(make_logs, caplog):
    caplog.set_level(logging.INFO, logger="enrichment_logs.console")
    logs = make_logs(console="terse")
    with el.enrichment_session(lead_id="lead-1", company_id="acme"):
        search("0.007")
        search("0.012")
        with contextlib.suppress(ConnectionError):
            scrape()
    logs.rows()
    lines = console_lines(caplog)
    calls = [line for line in lines if line.startswith(("exa", "firecrawl"))]
    assert len(calls) == 3
    assert "exa search" in calls[0] and "lead=lead-1" in calls[0] and "$0.007000" in calls[0]
    assert calls[1].endswith("lead total $0.019000")
    assert "cost unknown" in calls[2] and "error" in calls[2]
    summaries = [line for line in lines if line.startswith("[")]
    assert any(
        re.match(r"\[exa\] 2 calls, 0% errors, p50 \d+ms p95 \d+ms, \$0.019000", s)
        for s in summaries
    )
    assert any(line.startswith("[firecrawl] 1 calls, 100% errors") for line in summaries)


def test_console_off_is_silent(make_logs, caplog):
    caplog.set_level(logging.INFO, logger="enrichment_logs.console")
    logs = make_logs(console=False)
    search("0.007")
    logs.rows()
    assert console_lines(caplog) == []
