"""With content capture on, API keys are still scrubbed wherever they travel: headers, request
and response bodies, URLs and error messages, through the real SDKs, raw HTTP and the manual API.
No key reaches the spool, the WAL, the database or the published lake.

The keys look like real ones (`sk-proj-...`, `pplx-...`, `fc-...`, Exa's UUID). An Exa key is a
plain UUID, like the log ids, so it is recognised by where it appears (an `x-api-key` header, an
`apiKey` parameter), not by its shape: a bare UUID in free text is kept.
"""

from __future__ import annotations

import exa_py
import firecrawl
import httpx
import openai
import perplexity
import pytest

import enrichment_logs as el
from enrichment_logs.reference.clients import emulator_routes
from tests.conftest import Logs
from tests.lock_holders import holding
from tests.security.stored import Witness

OPENAI_KEY = (
    "sk-proj-" + "Tq8vRk2LmZp4Xw7NbYc1Hd5Jf9Gs3Ae6Ui0Oo" + "T3BlbkFJ" + "x4Kq9Zr2Lw8Mv5Np1Bs7Dc"
)
PERPLEXITY_KEY = "pplx-" + "a8Kd93LmQz7Rt2Vx5Wn1Yb4Hc6Jf0Gs8Ue3Pi9Oo2Lk7Mz"
FIRECRAWL_KEY = "fc-" + "6f1e9b2c4d8a47e3b5c0d9e8f7a6b5c4"
EXA_KEY = "2c9f7b1e-4a8d-4e6b-9c3f-5d7e1a2b8c4f"
KEYS = (OPENAI_KEY, PERPLEXITY_KEY, FIRECRAWL_KEY, EXA_KEY)


def calls_carrying_keys(emulator) -> int:
    """Every way a key travels with a call; returns how many calls were made."""
    pasted = f"my keys: {OPENAI_KEY} {PERPLEXITY_KEY} {FIRECRAWL_KEY}"
    openai.OpenAI(api_key=OPENAI_KEY, base_url=emulator.openai_base_url).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": pasted}]
    )
    perplexity.Perplexity(
        api_key=PERPLEXITY_KEY, base_url=emulator.perplexity_base_url
    ).search.create(query=pasted)
    exa_py.Exa(EXA_KEY, base_url=emulator.exa_base_url).search(pasted)
    firecrawl.Firecrawl(api_key=FIRECRAWL_KEY, api_url=emulator.firecrawl_base_url).scrape(
        f"https://acme.example/?api_key={EXA_KEY}&token={OPENAI_KEY}"
    )

    @el.tool("exa", "search_by_url")
    def search_by_url(query: str) -> object:
        # the key in the URL, and no header: the provider answers 401 and the error quotes the URL
        reply = httpx.post(f"{emulator.exa_base_url}/search?apiKey={EXA_KEY}", json={"q": query})
        reply.raise_for_status()
        return reply.json()

    with pytest.raises(httpx.HTTPStatusError):
        search_by_url(pasted)
    log_id = el.start_enrichment_log(
        provider="firecrawl",
        operation="scrape",
        request_data={
            "headers": {"Authorization": f"Bearer {FIRECRAWL_KEY}", "x-api-key": EXA_KEY},
            "url": f"https://api.exa.ai/search?apiKey={EXA_KEY}",
            "body": pasted,
        },
    )
    el.fail_enrichment_log(log_id, f"401 for key {PERPLEXITY_KEY} at ?key={EXA_KEY}")
    return 6


def test_with_capture_on_no_key_reaches_any_file(tmp_path, emulator):
    db_path = tmp_path / "enrichment_logs.duckdb"
    witness = Witness(db_path)
    with holding(db_path):  # the rows wait in the spool, where they are looked at
        logs = Logs(
            db_path,
            provider_routes=emulator_routes(emulator),
            instrument=True,
            capture_content=True,
        )
        made = calls_carrying_keys(emulator)
        assert not logs.handle.flush(timeout_seconds=2)
        witness.look()
    assert logs.handle.flush()
    witness.look()
    rows = logs.rows()

    assert len(rows) == made
    assert witness.leaks(KEYS) == []
    assert sum("[REDACTED]" in str(row["request_data"]) for row in rows) >= 4  # content is kept
