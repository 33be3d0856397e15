"""`firecrawl-py` v2 against the emulator: credits are reported where Firecrawl reports them."""

from __future__ import annotations

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

firecrawl = pytest.importorskip("firecrawl")

EXTRACT = {"type": "json", "schema": {"type": "object", "properties": {"ceo": {"type": "string"}}}}


def client(emulator: ProviderEmulator, key: str | None = KEY):
    return firecrawl.Firecrawl(api_key=key, api_url=emulator.firecrawl_base_url, max_retries=1)


def test_scrape_reports_one_credit_per_page(emulator: ProviderEmulator) -> None:
    document = client(emulator).scrape("https://acme.example/about")

    assert document.markdown.startswith("# ")
    assert document.metadata.source_url == "https://acme.example/about"
    assert document.metadata.status_code == 200
    assert document.metadata.credits_used == 1
    [request] = emulator.requests
    assert (request.provider, request.path) == ("firecrawl", "/v2/scrape")
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_json_extraction_costs_four_more_credits(emulator: ProviderEmulator) -> None:
    document = client(emulator).scrape("https://acme.example", formats=["markdown", EXTRACT])

    assert document.json == {"ceo": "emulated"}
    assert document.metadata.credits_used == 5


def test_search_charges_two_credits_per_ten_results(emulator: ProviderEmulator) -> None:
    results = client(emulator).search("Acme Corp", limit=11)
    raw = send(emulator.firecrawl_base_url + "/v2/search", {"query": "Acme Corp", "limit": 11})

    assert len(results.web) == 11
    assert raw.json()["creditsUsed"] == 4  # the SDK drops it; the library reads it from HTTP
    assert raw.json()["id"]


def test_scraped_search_results_add_their_page_credits(emulator: ProviderEmulator) -> None:
    body = {"query": "Acme", "limit": 3, "scrapeOptions": {"formats": ["markdown"]}}
    raw = send(emulator.firecrawl_base_url + "/v2/search", body)

    assert raw.json()["creditsUsed"] == 2 + 3
    assert raw.json()["data"]["web"][0]["markdown"]


def test_map_lists_links(emulator: ProviderEmulator) -> None:
    result = client(emulator).map("https://acme.example", limit=4)

    assert [link.url for link in result.links][:2] == [
        "https://acme.example/page-1",
        "https://acme.example/page-2",
    ]
    assert len(result.links) == 4


def test_crawl_completes_with_its_credits(emulator: ProviderEmulator) -> None:
    job = client(emulator).crawl(
        "https://acme.example",
        limit=3,
        scrape_options={"formats": ["markdown", EXTRACT]},
        poll_interval=1,
    )

    assert job.status == "completed"
    assert (job.total, job.completed) == (3, 3)
    assert job.credits_used == 15
    assert job.data[0].metadata.source_url == "https://acme.example"
    assert [request.method for request in emulator.requests] == ["POST", "GET"]


def test_an_unknown_crawl_is_not_found(emulator: ProviderEmulator) -> None:
    reply = send(emulator.firecrawl_base_url + "/v2/crawl/no-such-job", method="GET")

    assert reply.status == 404
    assert reply.json() == {"success": False, "error": "Job not found"}


def test_firecrawl_is_also_served_under_its_own_prefix(emulator: ProviderEmulator) -> None:
    reply = send(emulator.base_url + "/firecrawl/v2/scrape", {"url": "https://acme.example"})

    assert reply.json()["data"]["metadata"]["creditsUsed"] == 1


def test_a_client_without_a_key_is_refused(emulator: ProviderEmulator) -> None:
    with pytest.raises(firecrawl.v2.utils.error_handler.FirecrawlError) as raised:
        client(emulator, key=None).scrape("https://acme.example")

    assert raised.value.status_code == 401


async def test_the_async_client(emulator: ProviderEmulator) -> None:
    async_client = firecrawl.AsyncFirecrawl(api_key=KEY, api_url=emulator.firecrawl_base_url)
    document = await async_client.scrape("https://acme.example")
    job = await async_client.crawl(url="https://acme.example", limit=2, poll_interval=1)

    assert document.metadata.credits_used == 1
    assert job.credits_used == 2
