"""A decorated tool call, sync or async, becomes exactly one correct row."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import enrichment_logs as el

# gpt-4o-mini, USD per 1M tokens: input 0.15, cached input 0.075, output 0.60.
GPT_4O_MINI_CALL = (800 * Decimal("0.15") + 200 * Decimal("0.075") + 500 * Decimal("0.60")) / 10**6


@el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
def extract_company_size(page: str) -> dict[str, int]:
    el.record_usage(
        model="gpt-4o-mini", input_tokens=1000, cached_input_tokens=200, output_tokens=500
    )
    return {"employees": 42}


@el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
async def extract_company_size_async(page: str) -> dict[str, int]:
    el.record_usage(
        model="gpt-4o-mini", input_tokens=1000, cached_input_tokens=200, output_tokens=500
    )
    return {"employees": 42}


def assert_priced_openai_row(row: dict[str, object], before: datetime) -> None:
    assert uuid.UUID(str(row["id"])).version == 7
    assert len(str(row["trace_id"])) == 32
    assert len(str(row["span_id"])) == 16
    assert row["parent_span_id"] is None
    assert (row["session_id"], row["lead_id"], row["company_id"]) == (None, None, None)
    assert (row["provider"], row["operation"], row["model"]) == (
        "openai",
        "chat.completions.create",
        "gpt-4o-mini",
    )
    assert row["input_tokens"] == 1000
    assert row["cached_input_tokens"] == 200
    assert row["cache_write_tokens"] is None
    assert row["output_tokens"] == 500
    assert row["reasoning_tokens"] is None
    assert row["tokens_used"] == 1500
    assert row["credits"] is None
    assert row["cost"] == GPT_4O_MINI_CALL
    assert (row["cost_source"], row["currency"]) == ("price_table", "USD")
    assert "genai-prices" in str(row["price_version"])
    started, completed = row["started_at"], row["completed_at"]
    assert isinstance(started, datetime) and isinstance(completed, datetime)
    assert before <= started <= completed <= datetime.now(UTC) + timedelta(seconds=1)
    assert row["duration_ms"] == pytest.approx(
        (completed - started).total_seconds() * 1000, abs=0.01
    )
    assert (row["status"], row["error_type"], row["error_message"]) == ("success", None, None)
    assert (row["retry_count"], row["cache_hit"]) == (0, False)
    assert str(row["request_hash"]).startswith("sha256:")  # its arguments are JSON
    assert row["service_name"] == "enrichment-pipeline"
    # Without content capture only the shape of the request and response is stored.
    assert json.loads(str(row["request_data"])) == {"args": "tuple[1]", "kwargs": "object[0]"}
    assert json.loads(str(row["response_data"])) == {"employees": "int"}


def test_a_decorated_sync_call_is_one_priced_row(logs):
    before = datetime.now(UTC)
    assert extract_company_size("acme.com about page") == {"employees": 42}
    [row] = logs.rows()
    assert_priced_openai_row(row, before)


async def test_a_decorated_async_call_is_one_priced_row(logs):
    before = datetime.now(UTC)
    assert await extract_company_size_async("acme.com about page") == {"employees": 42}
    [row] = logs.rows()
    assert_priced_openai_row(row, before)


class ScrapeBlocked(Exception):
    pass


@el.tool("firecrawl", "scrape")
def scrape(url: str) -> dict[str, object]:
    raise ScrapeBlocked(f"403 from {url}")


async def test_a_failing_tool_is_an_error_row_and_the_caller_gets_its_exception(logs):
    with pytest.raises(ScrapeBlocked) as raised:
        scrape("https://acme.com")
    assert str(raised.value) == "403 from https://acme.com"
    [row] = logs.rows()
    assert row["status"] == "error"
    assert row["error_type"] == f"{__name__}.ScrapeBlocked"
    assert row["error_message"] == "403 from https://acme.com"
    assert row["cost"] is None
    assert row["cost_source"] == "unknown"


@el.tool("openai", "chat.completions.create")
def ask_a_model_nobody_prices() -> str:
    el.record_usage(model="gpt-99-imaginary", input_tokens=10, output_tokens=5)
    return "ok"


def test_an_unknown_model_has_unknown_cost_never_zero(logs):
    ask_a_model_nobody_prices()
    [row] = logs.rows()
    assert row["model"] == "gpt-99-imaginary"
    assert row["cost"] is None
    assert row["cost_source"] == "unknown"
    assert row["tokens_used"] == 15


@el.tool(
    "exa",
    "search",
    usage=lambda response: {"search_type": "auto", "results": len(response["results"])},
    cost=lambda response: response["costDollars"]["total"],
)
def exa_search(query: str) -> dict[str, object]:
    return {"results": [{"url": "https://acme.com"}], "costDollars": {"total": 0.007}}


def test_the_provider_reported_cost_wins(logs):
    exa_search("acme")
    [row] = logs.rows()
    assert (row["cost"], row["cost_source"]) == (Decimal("0.007"), "provider")


@el.tool("in-house-crm", "lookup", cost="0.0004")
def crm_lookup(email: str) -> dict[str, str]:
    return {"title": "CTO"}


def test_a_provider_we_do_not_know_is_logged_with_its_fixed_cost(logs):
    crm_lookup("ceo@acme.com")
    [row] = logs.rows()
    assert (row["provider"], row["operation"]) == ("in-house-crm", "lookup")
    assert (row["cost"], row["cost_source"]) == (Decimal("0.0004"), "override")


def test_with_content_capture_a_decorated_call_keeps_its_arguments_without_secrets(make_logs):
    @el.tool("in-house-crm", "lookup")
    def lookup(email: str, *, api_key: str) -> dict[str, str]:
        return {"title": "CTO"}

    logs = make_logs(capture_content=True)
    lookup("ceo@acme.com", api_key="sk-proj-" + "Ab3dEf6hIj9kLm2nOp5q" * 2)
    [row] = logs.rows()
    assert json.loads(str(row["request_data"])) == {
        "args": ["ceo@acme.com"],
        "kwargs": {"api_key": "[REDACTED]"},
    }
    assert json.loads(str(row["response_data"])) == {"title": "CTO"}


def broken_extractor(response: object) -> dict[str, object]:
    raise ZeroDivisionError("extractor bug")


@el.tool("exa", "search", usage=broken_extractor)
def search_with_a_broken_extractor() -> str:
    return "results"


def test_a_broken_usage_extractor_never_reaches_the_caller(logs, caplog):
    assert search_with_a_broken_extractor() == "results"
    assert search_with_a_broken_extractor() == "results"
    assert len([r for r in caplog.records if "extractor" in r.getMessage()]) == 1
    assert [row["status"] for row in logs.rows()] == ["success", "success"]


def test_bad_decorator_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="cost='free'"):
        el.tool("exa", "search", cost="free")
    with pytest.raises(TypeError, match="generator function"):

        @el.tool("exa", "search")
        def stream():
            yield 1


def test_record_usage_with_bad_values_keeps_the_call_and_notes_why(logs):
    @el.tool("openai", "chat.completions.create")
    def call():
        el.record_usage(model="gpt-4o-mini", input_tokens=-5, output_tokens="many")  # type: ignore[arg-type]
        return "ok"

    call()
    [row] = logs.rows()
    assert row["input_tokens"] is None and row["output_tokens"] is None
    assert "input_tokens" in str(row["attributes"]) and "output_tokens" in str(row["attributes"])
