"""Raw httpx and requests calls to a provider are logged like SDK calls; failures are error rows
while the caller sees exactly what the client raises; rows carry the session's lead; a call
inside a user's `@tool` adds to that tool's row; and nothing is logged after `uninstrument()`."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import exa_py
import firecrawl
import httpx
import perplexity
import pytest
import requests
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor
from enrichment_logs.instrumentation.http import exa as exa_http
from enrichment_logs.instrumentation.routes import ProviderRoutes, set_routes

EXA_HEADERS = {"x-api-key": "exa-test-key"}
BEARER = {"Authorization": "Bearer test-key"}
SEARCH = Decimal("0.007")
CREDIT = Decimal("99") / Decimal("100000")


@contextlib.contextmanager
def instrumented(routes: dict[str, str]) -> Iterator[None]:
    set_routes(ProviderRoutes(routes))
    HttpProvidersInstrumentor().instrument()
    try:
        yield
    finally:
        HttpProvidersInstrumentor().uninstrument()


# --- raw clients ----------------------------------------------------------------------------


def test_a_raw_httpx_call_is_logged_and_its_body_still_readable(
    http_logs, emulator: ProviderEmulator
):
    reply = httpx.post(
        emulator.exa_base_url + "/search", json={"query": "Acme"}, headers=EXA_HEADERS
    )

    [row] = http_logs.rows()
    assert reply.json()["costDollars"]["total"] == pytest.approx(0.007)
    assert (row["provider"], row["operation"], row["cost"]) == ("exa", "search", SEARCH)


async def test_a_raw_async_httpx_call_is_logged(http_logs, emulator: ProviderEmulator):
    async with httpx.AsyncClient(headers=BEARER) as client:
        reply = await client.post(
            emulator.firecrawl_base_url + "/v2/scrape", json={"url": "https://acme.example"}
        )

    [row] = http_logs.rows()
    assert reply.json()["success"] is True
    assert (row["operation"], row["credits"], row["cost"]) == ("scrape", 1, CREDIT)


def test_a_raw_requests_call_is_logged(http_logs, emulator: ProviderEmulator):
    reply = requests.post(
        emulator.exa_base_url + "/search", json={"query": "Acme"}, headers=EXA_HEADERS
    )

    [row] = http_logs.rows()
    assert reply.json()["resolvedSearchType"] == "neural"
    assert (row["operation"], row["cost"]) == ("search", SEARCH)


def test_a_stream_read_with_requests_reaches_the_caller_whole_and_is_priced(
    http_logs, emulator: ProviderEmulator
):
    with requests.post(
        emulator.perplexity_base_url + "/v1/agent",
        json={"input": "Acme?", "preset": "fast", "stream": True},
        headers=BEARER,
        stream=True,
    ) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith(b"data:")]

    [row] = http_logs.rows()
    assert json.loads(lines[-1][5:])["type"] == "response.completed"
    assert (row["operation"], row["cost_source"]) == ("responses.create", "provider")
    assert row["cost"] is not None and row["output_tokens"] == 64


@pytest.fixture
def unknown_api() -> Iterator[str]:
    """A provider endpoint this library does not know, answering 200 with a JSON body."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_endpoint_we_do_not_know_is_still_a_row_with_unknown_cost(make_logs, unknown_api: str):
    logs = make_logs(provider_routes={unknown_api: "exa"})
    with instrumented({unknown_api: "exa"}):
        httpx.post(unknown_api + "/websets/v0/websets", json={"search": {"query": "Acme"}})

    [row] = logs.rows()
    assert (row["provider"], row["operation"], row["status"]) == ("exa", "other", "success")
    assert (row["cost"], row["cost_source"]) == (None, "unknown")
    assert json.loads(row["attributes"])["url.path"] == "/websets/v0/websets"


# --- failures ---------------------------------------------------------------------------------


def test_a_rate_limited_call_is_an_error_row_and_the_sdk_raises_its_own_error(
    http_logs, emulator: ProviderEmulator
):
    emulator.script("perplexity", [429], retry_after=1)
    client = perplexity.Perplexity(
        api_key="k", base_url=emulator.perplexity_base_url, max_retries=0
    )
    with pytest.raises(perplexity.RateLimitError):
        client.search.create(query="Acme")

    [row] = http_logs.rows()
    assert (row["operation"], row["status"], row["error_type"]) == ("search", "error", "429")
    assert row["error_message"].startswith("HTTP 429 Too Many Requests")


def test_a_server_error_is_an_error_row_and_the_sdk_raises_its_own_error(
    http_logs, emulator: ProviderEmulator
):
    emulator.script("firecrawl", [500])
    client = firecrawl.Firecrawl(api_key="fc-k", api_url=emulator.firecrawl_base_url)
    with pytest.raises(firecrawl.v2.utils.error_handler.InternalServerError):
        client.scrape("https://acme.example")

    [row] = http_logs.rows()
    assert (row["operation"], row["status"], row["error_type"]) == ("scrape", "error", "500")
    assert (row["credits"], row["cost"]) == (None, None)


def test_an_exa_error_reaches_the_caller_as_exa_raises_it(http_logs, emulator: ProviderEmulator):
    emulator.script("exa", [500])
    with pytest.raises(ValueError, match="status code 500"):
        exa_py.Exa("k", base_url=emulator.exa_base_url).search("Acme")

    [row] = http_logs.rows()
    assert (row["status"], row["error_type"]) == ("error", "500")


def test_a_timeout_is_an_error_row_and_the_caller_gets_the_timeout(
    http_logs, emulator: ProviderEmulator
):
    emulator.hang("exa")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            emulator.exa_base_url + "/search",
            json={"query": "Acme"},
            headers=EXA_HEADERS,
            timeout=0.2,
        )

    [row] = http_logs.rows()
    assert (row["status"], row["error_type"]) == ("error", "httpx.ReadTimeout")


def test_a_refused_connection_is_an_error_row(make_logs):
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    logs = make_logs(provider_routes={closed: "firecrawl"})
    with instrumented({closed: "firecrawl"}), pytest.raises(requests.ConnectionError):
        requests.post(closed + "/v2/scrape", json={"url": "https://acme.example"}, timeout=2)

    [row] = logs.rows()
    assert (row["operation"], row["status"]) == ("scrape", "error")
    assert row["error_type"] == "requests.exceptions.ConnectionError"


def test_a_body_that_is_not_json_is_logged_at_the_list_price(http_logs, emulator: ProviderEmulator):
    emulator.malform("exa", "not_json")
    reply = httpx.post(
        emulator.exa_base_url + "/search", json={"query": "Acme"}, headers=EXA_HEADERS
    )

    [row] = http_logs.rows()
    assert reply.text.startswith("<html>")
    assert (row["operation"], row["status"]) == ("search", "success")
    assert (row["cost"], row["cost_source"]) == (SEARCH, "price_table")


def test_a_bug_in_reading_usage_never_reaches_the_caller(
    http_logs, emulator: ProviderEmulator, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: Any) -> None:
        raise KeyError("a shape nobody foresaw")

    monkeypatch.setattr(exa_http, "usage", broken)
    results = exa_py.Exa("k", base_url=emulator.exa_base_url).search("Acme", num_results=2)

    [row] = http_logs.rows()
    assert len(results.results) == 2
    assert (row["status"], row["cost"], row["cost_source"]) == ("success", SEARCH, "price_table")


# --- attribution and no double rows ----------------------------------------------------------


def test_a_call_inside_a_session_carries_its_lead_and_company(
    http_logs, emulator: ProviderEmulator
):
    with el.enrichment_session(lead_id="lead-7", company_id="acme") as session:
        exa_py.Exa("k", base_url=emulator.exa_base_url).search("Acme", num_results=3)

    [row] = http_logs.rows()
    assert (row["lead_id"], row["company_id"]) == ("lead-7", "acme")
    assert session.cost == SEARCH


def test_a_call_inside_a_users_tool_adds_to_that_tools_row(http_logs, emulator: ProviderEmulator):
    @el.tool("exa", "company_news")
    def company_news(name: str) -> list[str]:
        exa = exa_py.Exa("k", base_url=emulator.exa_base_url)
        return [result.url for result in exa.search(name, num_results=3).results]

    company_news("Acme")

    [row] = http_logs.rows()
    assert (row["operation"], row["cost"], row["cost_source"]) == (
        "company_news",
        SEARCH,
        "provider",
    )


def test_after_uninstrument_nothing_is_logged(http_logs, emulator: ProviderEmulator):
    HttpProvidersInstrumentor().uninstrument()
    httpx.post(emulator.exa_base_url + "/search", json={"query": "Acme"}, headers=EXA_HEADERS)
    requests.post(emulator.exa_base_url + "/search", json={"query": "Acme"}, headers=EXA_HEADERS)

    assert http_logs.rows() == []
    HttpProvidersInstrumentor().instrument()  # for the fixture's teardown


def test_an_app_already_auto_instrumented_keeps_its_httpx_spans_under_our_rows(
    emulated_logs, emulator_routes, emulator: ProviderEmulator
):
    """As under `opentelemetry-instrument`: httpx was instrumented first, without our hooks."""
    memory = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    processor = SimpleSpanProcessor(memory)
    provider.add_span_processor(processor)
    HTTPXClientInstrumentor().instrument()
    try:
        with instrumented(emulator_routes):
            httpx.post(emulator.exa_base_url + "/search", json={"query": "Acme"})
        assert HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
    finally:
        HTTPXClientInstrumentor().uninstrument()
        processor.shutdown()

    spans = {span.name: span for span in memory.get_finished_spans()}
    [row] = emulated_logs.rows()
    tool_span, http_span = spans["exa search"], spans["POST"]
    assert http_span.parent is not None
    assert http_span.parent.span_id == tool_span.context.span_id
    assert row["operation"] == "search"
