"""How each provider's endpoints and bodies are read, including shapes the emulator does not
serve (Firecrawl v1, job endpoints, Exa research), and how a streamed body is read on the side."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from decimal import Decimal

import pytest

from enrichment_logs.instrumentation.http import exa, firecrawl, perplexity
from enrichment_logs.instrumentation.http.api import OTHER, Endpoint
from enrichment_logs.instrumentation.http.body import BodyReader


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/v1/scrape", Endpoint("scrape")),
        ("POST", "/v2/search", Endpoint("search")),
        ("POST", "/v1/map", Endpoint("map")),
        ("POST", "/v2/crawl", Endpoint("crawl", job="start")),
        ("GET", "/v1/crawl/job-1", Endpoint("crawl", job="status", job_id="job-1")),
        ("POST", "/v2/batch/scrape", Endpoint("batch_scrape", job="start")),
        ("GET", "/v2/batch/scrape/b-2", Endpoint("batch_scrape", job="status", job_id="b-2")),
        ("GET", "/v2/extract/e-3", Endpoint("extract", job="status", job_id="e-3")),
        ("GET", "/v2/crawl/active", Endpoint(OTHER)),
        ("GET", "/v2/crawl/job-1/errors", Endpoint(OTHER)),
        ("POST", "/v2/parse", Endpoint(OTHER)),
        ("POST", "/scrape", Endpoint(OTHER)),
    ],
)
def test_firecrawl_endpoints_of_both_api_versions(method, path, expected):
    assert firecrawl.endpoint(method, path) == expected


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/search", Endpoint("search")),
        ("POST", "/findSimilar", Endpoint("find_similar")),
        ("POST", "/research/v1", Endpoint("research", job="start")),
        ("GET", "/research/v1/r-1", Endpoint("research", job="status", job_id="r-1")),
        ("GET", "/agent/runs/run-1", Endpoint("agent", job="status", job_id="run-1")),
        ("GET", "/websets/v0/websets", Endpoint(OTHER)),
    ],
)
def test_exa_endpoints(method, path, expected):
    assert exa.endpoint(method, path) == expected


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/v1/agent", "responses.create"),
        ("/v1/responses", "responses.create"),
        ("/search", "search"),
        ("/chat/completions", "chat.completions.create"),
        ("/v1/embeddings", "embeddings.create"),
        ("/v1/models", OTHER),
    ],
)
def test_perplexity_endpoints(path, operation):
    assert perplexity.endpoint("POST", path).operation == operation


def test_a_firecrawl_v1_search_counts_its_results_and_json_scrapes_are_flagged():
    search = firecrawl.usage(Endpoint("search"), {}, {"data": [{}, {}, {}], "creditsUsed": 2})
    scrape = firecrawl.usage(Endpoint("scrape"), {"formats": [{"type": "json"}]}, {"data": {}})

    assert (search.credits, search.extra["results"]) == (Decimal(2), 3)
    assert (scrape.credits, scrape.extra["json_format"]) == (None, True)


def test_an_exa_research_task_costs_what_its_finished_status_reports():
    status = {"researchId": "r-1", "status": "completed", "costDollars": {"total": 0.1234}}
    endpoint = Endpoint("research", job="status", job_id="r-1")

    assert exa.job_finished(status)
    assert exa.usage(endpoint, None, status).reported_cost == Decimal("0.1234")
    assert exa.job_id({"researchId": "r-1", "status": "pending"}) == "r-1"


def test_a_failed_agent_run_returned_with_http_200_is_a_failure():
    failed = {"status": "failed", "error": {"message": "model overloaded"}}

    assert perplexity.failure(Endpoint("responses.create"), failed) == "model overloaded"
    assert perplexity.failure(Endpoint("responses.create"), {"status": "completed"}) is None


def sse(*events: Mapping[str, object]) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


def test_a_gzipped_event_stream_split_anywhere_yields_its_final_usage():
    body = sse(
        {"type": "response.output_text.delta", "delta": "Hi"},
        {"type": "response.completed", "response": {"usage": {"output_tokens": 7}}},
    )
    compressed = gzip.compress(body)
    reader = BodyReader(
        "text/event-stream", "gzip", perplexity.final_event, perplexity.STREAM_MARKERS
    )
    for start in range(0, len(compressed), 5):
        reader.feed(compressed[start : start + 5])

    assert reader.result() == {"usage": {"output_tokens": 7}}


def test_the_last_sonar_chunk_carries_the_cost_not_the_placeholders():
    placeholder = {"object": "chat.completion.chunk", "usage": {"cost": {"total_cost": 0}}}
    last = {"object": "chat.completion.chunk", "usage": {"cost": {"total_cost": 0.006}}}
    reader = BodyReader(
        "text/event-stream", None, perplexity.final_event, perplexity.STREAM_MARKERS
    )
    reader.feed(sse(placeholder, placeholder) + sse(last)[:-1])  # no blank line at the end

    assert reader.result() == last


def test_an_encoding_we_cannot_read_leaves_the_body_unread():
    reader = BodyReader("application/json", "br", exa.final_event, exa.STREAM_MARKERS)
    reader.feed(b"\x1b\x00compressed")

    assert reader.result() is None
