"""The reference enrichment pipeline: what a lead-enrichment engine looks like with logging on.

Given a lead (name, email, company domain) it scrapes the company's site (Firecrawl), searches
recent news (Exa), asks who runs the company (Perplexity) and extracts a structured profile
(OpenAI). Each step is a plain client call with no logging code: the instrumentation turns each
into a priced tool call, and `enrichment_session` attributes them to the lead and company and
totals what the lead cost. Copy it as the shape of your own engine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

import enrichment_logs as el
from enrichment_logs.reference.clients import ProviderClients


@dataclass(frozen=True)
class Lead:
    lead_id: str
    name: str
    email: str
    company: str
    company_id: str
    domain: str


@dataclass(frozen=True)
class EnrichedLead:
    """The profile the pipeline built, what it cost, and what went wrong on the way."""

    lead: Lead
    profile: dict[str, Any]
    cost: Decimal
    calls: int
    unknown_cost_calls: int
    errors: tuple[str, ...]


def sample_leads(count: int) -> list[Lead]:
    """The shipped fictional leads, repeated with fresh ids when more are asked for."""
    text = resources.files("enrichment_logs.reference").joinpath("leads.json").read_text()
    base = [Lead(**entry) for entry in json.loads(text)["leads"]]
    leads = []
    for n in range(count):
        lead = base[n % len(base)]
        if n >= len(base):
            lead = Lead(**{**lead.__dict__, "lead_id": f"lead-{n + 1:03d}"})
        leads.append(lead)
    return leads


async def enrich_lead(lead: Lead, clients: ProviderClients) -> EnrichedLead:
    """One lead, each step a plain SDK call; a failed step is noted and the others go on."""
    errors: list[str] = []

    async def step(name: str, call: Callable[[], Any]) -> Any:
        try:
            return await call()
        except Exception as error:  # one provider failing must not lose the lead
            errors.append(f"{name}: {type(error).__name__}")
            return None

    async with el.enrichment_session(lead_id=lead.lead_id, company_id=lead.company_id) as session:
        page, news, answer = await asyncio.gather(
            step(
                "firecrawl",
                lambda: clients.firecrawl.scrape(f"https://{lead.domain}", formats=["markdown"]),
            ),
            step(
                "exa",
                lambda: clients.exa.search(f"{lead.company} news", num_results=5, type="auto"),
            ),
            step(
                "perplexity",
                lambda: clients.perplexity.responses.create(
                    model="perplexity/sonar",
                    input=f"Who leads {lead.company} and what does it sell?",
                    tools=[{"type": "web_search"}],
                ),
            ),
        )
        context = "\n\n".join(
            part
            for part in (
                getattr(page, "markdown", None),
                "\n".join(result.title or "" for result in getattr(news, "results", []) or []),
                getattr(answer, "output_text", None),
            )
            if part
        )
        completion = await step(
            "openai",
            lambda: clients.openai.chat.completions.create(
                model="gpt-4o-mini",
                response_format={"type": "json_object"},
                messages=[
                    {"role": "system", "content": "Extract a JSON company profile for sales."},
                    {"role": "user", "content": f"{lead.company} ({lead.domain})\n\n{context}"},
                ],
            ),
        )
    return EnrichedLead(
        lead=lead,
        profile=_profile(completion),
        cost=session.cost,
        calls=session.calls,
        unknown_cost_calls=session.unknown_cost_calls,
        errors=tuple(errors),
    )


async def enrich_all(
    leads: Sequence[Lead],
    clients: ProviderClients,
    concurrency: int,
    on_done: Callable[[EnrichedLead], None] = lambda _: None,
) -> list[EnrichedLead]:
    """Enrich every lead, at most `concurrency` at a time, in the leads' order."""
    gate = asyncio.Semaphore(concurrency)

    async def bounded(lead: Lead) -> EnrichedLead:
        async with gate:
            result = await enrich_lead(lead, clients)
        on_done(result)
        return result

    return list(await asyncio.gather(*(bounded(lead) for lead in leads)))


def _profile(completion: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(completion.choices[0].message.content)
    except (AttributeError, IndexError, TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {"value": parsed}
