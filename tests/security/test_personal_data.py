"""With content capture off (the default), no prompt, response or lead personal data (name,
email, phone) reaches any file: not the spool, the WAL, the database or the published lake.
The calls are still rows, with shapes, usage and costs."""

from __future__ import annotations

import exa_py
import firecrawl
import openai
import perplexity
import pytest

import enrichment_logs as el
from enrichment_logs.reference.clients import emulator_routes
from tests.conftest import Logs
from tests.lock_holders import holding
from tests.security.stored import Witness

NAME = "Jane Quinta Doe"
EMAIL = "jane.quinta.doe@acme-corp.example"
PHONE = "+1 (415) 555-0132"
PROMPT = "Summarise the buying intent of the lead called"
REPLY = "She is evaluating three vendors this quarter"
PERSONAL = (NAME, EMAIL, PHONE, PROMPT, REPLY)
KEY = "emulator-key"


def enrich_one_lead(emulator) -> int:
    """The calls a pipeline makes about one person; returns how many."""
    person = {"name": NAME, "email": EMAIL, "phone": PHONE}
    with el.enrichment_session(lead_id="lead-jane", company_id="acme"):
        openai.OpenAI(api_key=KEY, base_url=emulator.openai_base_url).chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"{PROMPT} {NAME}, {EMAIL}, {PHONE}"}],
        )
        perplexity.Perplexity(api_key=KEY, base_url=emulator.perplexity_base_url).search.create(
            query=f"{NAME} {EMAIL}"
        )
        exa_py.Exa(KEY, base_url=emulator.exa_base_url).search(f"{NAME} {PHONE}")
        firecrawl.Firecrawl(api_key="fc-" + KEY, api_url=emulator.firecrawl_base_url).scrape(
            f"https://acme-corp.example/team?who={EMAIL}"
        )

        @el.tool("exa", "find_person")
        def find_person(who: dict[str, str]) -> None:
            raise LookupError(f"no profile for {who['email']} ({who['phone']})")

        with pytest.raises(LookupError):
            find_person(person)
        log_id = el.start_enrichment_log(provider="exa", operation="contents", request_data=person)
        el.complete_enrichment_log(log_id, {"summary": REPLY, "contact": EMAIL})
    return 6


def test_without_capture_no_prompt_response_or_personal_data_reaches_any_file(tmp_path, emulator):
    db_path = tmp_path / "enrichment_logs.duckdb"
    witness = Witness(db_path)
    with holding(db_path):  # the rows wait in the spool, where they are looked at
        logs = Logs(db_path, provider_routes=emulator_routes(emulator), instrument=True)
        made = enrich_one_lead(emulator)
        assert not logs.handle.flush(timeout_seconds=2)
        witness.look()
    assert logs.handle.flush()
    witness.look()  # the WAL, while the writer still runs
    rows = logs.rows()

    assert len(rows) == made
    assert witness.leaks(PERSONAL) == []
    assert all(row["status"] in ("success", "error") for row in rows)
    assert sum(row["cost"] is not None for row in rows) >= 4
