"""`enrichment-logs demo`: a small scripted enrichment run that writes real rows.

Each lead is enriched in its own session by four tools shaped like the real providers' calls
(an Exa search, a Firecrawl scrape, a Perplexity Agent API answer, an OpenAI extraction). The
tools return canned responses in the providers' real shapes and report usage the way the
instrumentation does, so the rows, prices and per-lead totals are the real thing; no request
leaves the machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

import enrichment_logs as el


@dataclass(frozen=True)
class LeadResult:
    lead_id: str
    company_id: str
    calls: int
    cost: Decimal


@el.tool(
    "exa",
    "search",
    usage=lambda r: {"search_type": r["resolvedSearchType"], "results": len(r["results"])},
    cost=lambda r: r["costDollars"]["total"],
)
def exa_search(query: str, num_results: int) -> dict[str, Any]:
    return {
        "resolvedSearchType": "auto",
        "results": [
            {"url": f"https://example.com/{i}", "title": query} for i in range(num_results)
        ],
        "costDollars": {"total": 0.007 + max(0, num_results - 10) * 0.001},
    }


@el.tool("firecrawl", "scrape", usage=lambda r: {"credits": r["data"]["metadata"]["creditsUsed"]})
def firecrawl_scrape(url: str, json_format: bool) -> dict[str, Any]:
    return {
        "success": True,
        "data": {
            "markdown": "# About",
            "metadata": {"sourceURL": url, "creditsUsed": 5 if json_format else 1},
        },
    }


@el.tool("perplexity", "responses.create", model="perplexity/sonar")
def perplexity_answer(question: str, rng: random.Random) -> dict[str, Any]:
    input_tokens, output_tokens = rng.randint(300, 900), rng.randint(100, 400)
    el.record_usage(
        model="perplexity/sonar",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **{"tool.search_web": 1},
    )
    return {"status": "completed", "output_text": f"Answer to {question}"}


@el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
def openai_extract(page: str, rng: random.Random) -> dict[str, Any]:
    prompt, cached = rng.randint(800, 2400), rng.choice([0, 512, 1024])
    el.record_usage(
        model="gpt-4o-mini-2024-07-18",
        input_tokens=prompt,
        cached_input_tokens=cached,
        output_tokens=rng.randint(80, 300),
    )
    return {"choices": [{"message": {"content": '{"employees": 42}'}}]}


def enrich(lead_id: str, company_id: str, rng: random.Random) -> LeadResult:
    """One lead's enrichment, as the engine does it: every tool inside the lead's session."""
    with el.enrichment_session(lead_id=lead_id, company_id=company_id) as session:
        found = exa_search(f"{company_id} headquarters", num_results=rng.choice([5, 10, 25]))
        page = firecrawl_scrape(found["results"][0]["url"], json_format=rng.random() < 0.3)
        perplexity_answer(f"Who leads {company_id}?", rng)
        openai_extract(page["data"]["markdown"], rng)
    return LeadResult(lead_id, company_id, session.calls, session.cost)


def run(db_path: Path, leads: int, seed: int = 7) -> list[LeadResult]:
    """Enrich `leads` leads into `db_path`, flush, and return each lead's session totals."""
    handle = el.configure(db_path, console=False)
    rng = random.Random(seed)
    try:
        results = [
            enrich(f"lead-{n:03d}", f"company-{n % max(1, leads // 3):03d}", rng)
            for n in range(1, leads + 1)
        ]
        handle.flush()
    finally:
        handle.shutdown()
    return results


def main(db_path: Path, leads: int) -> int:
    results = run(db_path, leads)
    with duckdb.connect(str(db_path), read_only=True) as connection:
        stored = dict(
            connection.execute(
                "SELECT lead_id, sum(cost) FROM enrichment_logs GROUP BY lead_id"
            ).fetchall()
        )
        by_provider = connection.execute(
            "SELECT provider, count(*), sum(cost) FROM enrichment_logs "
            "GROUP BY provider ORDER BY provider"
        ).fetchall()
    print(f"{'lead':<10} {'calls':>5} {'session cost':>14} {'rows in DuckDB':>15}")
    for result in results:
        print(
            f"{result.lead_id:<10} {result.calls:>5} {result.cost:>14.6f} "
            f"{stored.get(result.lead_id, Decimal(0)):>15.6f}"
        )
    print()
    for provider, calls, cost in by_provider:
        print(f"{provider:<11} {calls:>4} calls  ${cost:.6f}")
    mismatched = [r.lead_id for r in results if stored.get(r.lead_id) != r.cost]
    print(
        f"\n{len(results)} leads written to {db_path}; "
        f'open it with: duckdb {db_path} "SELECT * FROM enrichment_logs LIMIT 5"'
    )
    if mismatched:
        print(f"session totals differ from the table for: {', '.join(mismatched)}")
        return 1
    return 0
