"""A pipeline logs its calls with `configure`, `@tool` and sessions; the analytics add them up."""

from __future__ import annotations

from decimal import Decimal

import duckdb

import enrichment_logs as el
from enrichment_logs.analytics import CostFigures, get_enrichment_costs, get_lead_cost_details
from tests.conftest import Logs


def test_the_analytics_add_up_to_what_each_session_reported(logs: Logs) -> None:
    @el.tool("exa", "search", cost="0.005")
    def search(query: str) -> dict[str, str]:
        return {"query": query}

    @el.tool("firecrawl", "scrape")
    def scrape(url: str) -> str:
        el.record_usage(credits=3, cost="0.0009")
        return url

    @el.tool("acme-data", "lookup")
    def lookup(name: str) -> str:
        return name  # no price known: its cost stays unknown

    sessions = {}
    for lead, company in (("lead-1", "acme"), ("lead-2", "globex")):
        with el.enrichment_session(lead_id=lead, company_id=company) as session:
            search(f"{company} pricing")
            scrape(f"https://{company}.example")
            lookup(company)
        sessions[lead] = session
    assert logs.handle.flush()
    logs.handle.shutdown()

    for lead, session in sessions.items():
        details = get_lead_cost_details(logs.db_path, lead)
        assert details.totals.known_cost == session.cost == Decimal("0.0059")
        assert details.totals.unknown_cost_calls == session.unknown_cost_calls == 1
        assert [call.operation for call in details.calls] == ["search", "scrape", "lookup"]
    assert get_enrichment_costs(logs.db_path, company_id="globex").totals == CostFigures(
        calls=3, priced_calls=2, unknown_cost_calls=1, known_cost=Decimal("0.0059")
    )


def test_a_running_pipeline_is_read_through_its_own_connection(logs: Logs) -> None:
    @el.tool("exa", "search", cost="0.002")
    def search(query: str) -> str:
        return query

    with el.enrichment_session(lead_id="lead-1"):
        search("acme")
    assert logs.handle.flush()
    logs.handle.shutdown()

    with duckdb.connect(str(logs.db_path)) as connection:
        report = get_enrichment_costs(connection, lead_id="lead-1")
        assert report.totals.known_cost == Decimal("0.002")
        assert connection.execute("SELECT count(*) FROM enrichment_logs").fetchone() == (1,)
