"""Firecrawl calls made through firecrawl-py (sync: module-level `requests.post`, async: httpx)
are logged with no logging code, priced from the credits Firecrawl reports, at the Standard plan
rate in prices.toml ($99 / 100,000 credits)."""

from __future__ import annotations

from decimal import Decimal

import firecrawl
import requests

from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor
from enrichment_logs.instrumentation.routes import ProviderRoutes, set_routes

KEY = "fc-test-key"
CREDIT = Decimal("99") / Decimal("100000")


def client(emulator: ProviderEmulator) -> firecrawl.Firecrawl:
    return firecrawl.Firecrawl(api_key=KEY, api_url=emulator.firecrawl_base_url, max_retries=1)


def test_a_scrape_costs_its_reported_credits(http_logs, emulator: ProviderEmulator):
    client(emulator).scrape("https://acme.example/about")

    [row] = http_logs.rows()
    assert (row["provider"], row["operation"], row["status"]) == ("firecrawl", "scrape", "success")
    assert (row["credits"], row["cost"]) == (1, CREDIT)


def test_a_search_keeps_the_credits_the_sdk_drops(http_logs, emulator: ProviderEmulator):
    results = client(emulator).search("Acme Corp", limit=11)

    [row] = http_logs.rows()
    assert not hasattr(results, "credits_used")  # firecrawl-py discards creditsUsed
    assert (row["operation"], row["credits"], row["cost"]) == ("search", 4, 4 * CREDIT)


def test_a_map_reports_no_credits_and_is_priced_at_one(http_logs, emulator: ProviderEmulator):
    client(emulator).map("https://acme.example", limit=4)

    [row] = http_logs.rows()
    assert (row["operation"], row["credits"]) == ("map", None)
    assert (row["cost"], row["cost_source"]) == (CREDIT, "price_table")


def test_a_crawl_is_one_row_billed_when_its_status_completes(http_logs, emulator: ProviderEmulator):
    job = client(emulator).crawl("https://acme.example", limit=3, poll_interval=1)

    [row] = http_logs.rows()
    assert job.status == "completed"
    assert [request.method for request in emulator.requests] == ["POST", "GET"]
    assert (row["operation"], row["status"], row["credits"]) == ("crawl", "success", 3)
    assert row["cost"] == 3 * CREDIT


async def test_the_async_client_is_logged_the_same_way(http_logs, emulator: ProviderEmulator):
    async_client = firecrawl.AsyncFirecrawl(api_key=KEY, api_url=emulator.firecrawl_base_url)
    await async_client.scrape("https://acme.example")
    await async_client.search("Acme Corp", limit=5)
    await async_client.map("https://acme.example", limit=2)
    await async_client.crawl(url="https://acme.example", limit=2, poll_interval=1)

    rows = http_logs.rows()
    assert [(row["operation"], row["credits"], row["cost"]) for row in rows] == [
        ("scrape", 1, CREDIT),
        ("search", 2, 2 * CREDIT),
        ("map", None, CREDIT),
        ("crawl", 2, 2 * CREDIT),
    ]


def test_a_job_submitted_elsewhere_is_billed_once_however_often_it_is_polled(
    emulated_logs, emulator_routes, emulator: ProviderEmulator
):
    started = requests.post(  # before instrumenting: as if another process submitted it
        emulator.firecrawl_base_url + "/v2/crawl",
        json={"url": "https://acme.example", "limit": 2},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()
    set_routes(ProviderRoutes(emulator_routes))
    HttpProvidersInstrumentor().instrument()
    try:
        for _ in range(3):
            client(emulator).get_crawl_status(started["id"])
    finally:
        HttpProvidersInstrumentor().uninstrument()

    [row] = emulated_logs.rows()
    assert (row["operation"], row["credits"], row["cost"]) == ("crawl", 2, 2 * CREDIT)
