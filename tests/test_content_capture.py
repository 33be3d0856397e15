"""Content is stored only on opt-in, and secrets never reach the file either way."""

from __future__ import annotations

import json

import enrichment_logs as el

OPENAI_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2
PERPLEXITY_KEY = "pplx-" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0" + "ZyXw"
FIRECRAWL_KEY = "fc-" + "0123456789abcdef0123456789abcdef"
EXA_KEY = "3f2b8c1e-7d4a-4e9b-8c6f-2a1d0e9f8b7c"
SECRETS = (OPENAI_KEY, PERPLEXITY_KEY, FIRECRAWL_KEY, EXA_KEY)
LEAD_EMAIL = "jane.doe@acme.example"


def request_with_secrets() -> dict[str, object]:
    return {
        "url": f"https://api.exa.ai/search?apiKey={EXA_KEY}&q=acme",
        "headers": {
            "Authorization": f"Bearer {OPENAI_KEY}",
            "x-api-key": EXA_KEY,
            "Cookie": "session=abc123",
        },
        "body": {"prompt": f"Enrich {LEAD_EMAIL}; my key is {PERPLEXITY_KEY}"},
        "note": f"firecrawl token {FIRECRAWL_KEY}",
    }


def stored_text(rows: list[dict[str, object]]) -> str:
    return json.dumps(rows, default=str)


def test_without_opt_in_no_content_and_no_personal_data_is_stored(make_logs):
    logs = make_logs()
    log_id = el.start_enrichment_log(
        provider="exa", operation="search", request_data=request_with_secrets()
    )
    el.complete_enrichment_log(log_id, {"results": [{"email": LEAD_EMAIL}]})
    [row] = logs.rows()
    text = stored_text([row])
    for secret in (*SECRETS, LEAD_EMAIL, "acme"):
        assert secret not in text
    assert json.loads(str(row["request_data"]))["headers"] == "object[3]"


def test_with_opt_in_content_is_stored_and_secrets_are_scrubbed(make_logs):
    logs = make_logs(capture_content=True)
    log_id = el.start_enrichment_log(
        provider="exa", operation="search", request_data=request_with_secrets()
    )
    el.complete_enrichment_log(log_id, {"results": [{"email": LEAD_EMAIL}]})
    [row] = logs.rows()
    text = stored_text([row])
    for secret in SECRETS:
        assert secret not in text
    assert "session=abc123" not in text
    request = json.loads(str(row["request_data"]))
    assert request["headers"]["Authorization"] == "[REDACTED]"
    assert LEAD_EMAIL in request["body"]["prompt"]
    assert LEAD_EMAIL in str(row["response_data"])
    raw = logs.db_path.read_bytes()
    assert all(secret.encode() not in raw for secret in SECRETS)


def test_captured_content_is_capped_in_size(make_logs):
    logs = make_logs(capture_content=True, content_max_bytes=2000)
    log_id = el.start_enrichment_log(
        provider="firecrawl", operation="scrape", request_data={"page": "x" * 50_000}
    )
    el.complete_enrichment_log(log_id)
    [row] = logs.rows()
    request = json.loads(str(row["request_data"]))
    assert request["truncated"] is True
    assert len(str(row["request_data"]).encode()) <= 2000
