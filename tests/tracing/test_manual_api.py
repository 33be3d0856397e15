"""The seed's start/complete/fail API, for code that cannot use a decorator."""

from __future__ import annotations

import threading
from decimal import Decimal

import enrichment_logs as el


def test_start_and_complete_in_different_threads_is_one_row(logs):
    log_id = el.start_enrichment_log(
        provider="perplexity",
        operation="responses.create",
        lead_id="lead-1",
        company_id="acme",
        request_data={"input": "Who is the CEO of Acme?"},
    )
    worker = threading.Thread(
        target=el.complete_enrichment_log,
        args=(log_id, {"output_text": "Jane Doe"}),
        kwargs={"cost": "0.0061", "input_tokens": 120, "output_tokens": 80},
    )
    worker.start()
    worker.join()
    [row] = logs.rows()
    assert str(row["id"]) == log_id
    assert (row["lead_id"], row["company_id"], row["status"]) == ("lead-1", "acme", "success")
    assert (row["cost"], row["cost_source"]) == (Decimal("0.0061"), "provider")
    assert row["tokens_used"] == 200
    assert "Jane" not in str(row["response_data"]) and "CEO" not in str(row["request_data"])


def test_record_usage_between_start_and_complete_applies_to_the_open_call(logs):
    log_id = el.start_enrichment_log(provider="openai", operation="embeddings.create")
    el.record_usage(model="text-embedding-3-small", input_tokens=50_000)
    el.complete_enrichment_log(log_id)
    [row] = logs.rows()
    # text-embedding-3-small: $0.02 per 1M input tokens.
    assert row["cost"] == 50_000 * Decimal("0.02") / 10**6


def test_a_failed_log_keeps_its_message_and_retry_count(logs):
    log_id = el.start_enrichment_log(provider="exa", operation="search", lead_id="lead-2")
    el.fail_enrichment_log(log_id, "429 Too Many Requests", retry_count=3)
    [row] = logs.rows()
    assert (row["status"], row["error_message"], row["retry_count"]) == (
        "error",
        "429 Too Many Requests",
        3,
    )


def test_tokens_used_alone_is_kept_when_no_split_is_known(logs):
    log_id = el.start_enrichment_log(provider="openai", operation="chat.completions.create")
    el.complete_enrichment_log(log_id, tokens_used=321)
    [row] = logs.rows()
    assert row["tokens_used"] == 321
    assert row["input_tokens"] is None


def test_an_unknown_or_twice_ended_log_id_warns_and_never_raises(logs, caplog):
    log_id = el.start_enrichment_log(provider="exa", operation="search")
    el.complete_enrichment_log(log_id)
    el.complete_enrichment_log(log_id)
    el.fail_enrichment_log("not-a-log-id", "boom")
    assert sum("no open log" in record.getMessage() for record in caplog.records) == 2
    assert len(logs.rows()) == 1


def test_a_log_never_completed_is_written_as_an_error_at_shutdown(logs):
    el.start_enrichment_log(provider="firecrawl", operation="crawl", lead_id="lead-3")
    [row] = logs.rows()
    assert row["status"] == "error"
    assert "never completed" in row["error_message"]
