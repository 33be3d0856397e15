"""An enrichment session attributes every call inside it and totals what they cost."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import enrichment_logs as el


@el.tool("exa", "search", cost=lambda response: response["costDollars"]["total"])
def exa_search(query: str) -> dict[str, object]:
    return {"costDollars": {"total": "0.007"}}


@el.tool("openai", "chat.completions.create")
def summarize(text: str) -> str:
    el.record_usage(model="gpt-4o", input_tokens=1200, cached_input_tokens=1024, output_tokens=300)
    return "summary"


@el.tool("openai", "chat.completions.create")
async def summarize_async(text: str) -> str:
    el.record_usage(model="gpt-4o", input_tokens=1200, output_tokens=300)
    return "summary"


def test_lead_and_company_reach_calls_in_threads_and_thread_pools(logs):
    with el.enrichment_session(lead_id="lead-1", company_id="acme") as session:
        exa_search("in the session's thread")
        worker = threading.Thread(target=exa_search, args=("in a thread",))
        worker.start()
        worker.join()
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(exa_search, ["a", "b", "c"]))
    rows = logs.rows()
    assert len(rows) == 5
    assert {(row["lead_id"], row["company_id"], row["session_id"]) for row in rows} == {
        ("lead-1", "acme", session.session_id)
    }
    assert session.calls == 5


async def test_lead_and_company_reach_calls_in_asyncio_tasks(logs):
    async with el.enrichment_session(lead_id="lead-2", company_id="globex") as session:
        await asyncio.gather(*(summarize_async(f"page {n}") for n in range(4)))
        await asyncio.create_task(summarize_async("in a task"))
    rows = logs.rows()
    assert len(rows) == 5
    assert {(row["lead_id"], row["company_id"], row["session_id"]) for row in rows} == {
        ("lead-2", "globex", session.session_id)
    }


def test_calls_outside_a_session_carry_no_lead(logs):
    with el.enrichment_session(lead_id="lead-3"):
        exa_search("inside")
    exa_search("outside")
    inside, outside = logs.rows()
    assert inside["lead_id"] == "lead-3"
    assert outside["lead_id"] is None and outside["session_id"] is None


def test_the_session_totals_equal_the_sum_of_its_rows(logs):
    with el.enrichment_session(lead_id="lead-4", company_id="initech") as session:
        exa_search("initech")
        summarize("about page")
        summarize("pricing page")
    rows = logs.rows()
    assert session.calls == len(rows) == 3
    assert session.cost == sum(row["cost"] for row in rows)
    assert session.cost > Decimal("0.007")
    assert session.unknown_cost_calls == 0
    assert session.input_tokens == 2400 and session.output_tokens == 600


def test_a_call_with_unknown_cost_is_counted_not_summed_as_zero(logs):
    @el.tool("openai", "chat.completions.create")
    def ask_unknown_model() -> None:
        el.record_usage(model="gpt-99-imaginary", input_tokens=10, output_tokens=5)

    with el.enrichment_session(lead_id="lead-5") as session:
        exa_search("known")
        ask_unknown_model()
    assert session.calls == 2
    assert session.cost == Decimal("0.007")
    assert session.unknown_cost_calls == 1


def test_a_nested_session_inherits_the_company_and_counts_in_both(logs):
    with el.enrichment_session(company_id="acme") as company_session:
        with el.enrichment_session(lead_id="lead-6") as lead_session:
            exa_search("lead")
        exa_search("company")
    assert (lead_session.calls, company_session.calls) == (1, 2)
    lead_row, company_row = logs.rows()
    assert (lead_row["lead_id"], lead_row["company_id"]) == ("lead-6", "acme")
    assert lead_row["session_id"] == lead_session.session_id
    assert (company_row["lead_id"], company_row["company_id"]) == (None, "acme")


def test_the_session_span_carries_its_totals(logs, spans):
    with el.enrichment_session(lead_id="lead-7", company_id="umbrella") as session:
        exa_search("umbrella")
        exa_search("umbrella corp")
    [session_span] = [s for s in spans.get_finished_spans() if s.name == "enrichment_session"]
    attributes = dict(session_span.attributes or {})
    assert attributes["enrichment.session.calls"] == 2
    assert Decimal(str(attributes["enrichment.session.cost"])) == session.cost == Decimal("0.014")
    assert attributes["enrichment.lead_id"] == "lead-7"
    tool_spans = [s for s in spans.get_finished_spans() if s.name == "exa search"]
    assert all(s.parent and s.parent.span_id == session_span.context.span_id for s in tool_spans)
