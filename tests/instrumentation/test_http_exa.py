"""Exa calls made through exa-py (sync: requests, async: httpx) are logged with no logging code:
one row each, priced from the `costDollars` Exa reports (list prices: search $7/1K, contents
$1/1K pages, answer $5/1K)."""

from __future__ import annotations

import json
from decimal import Decimal

import exa_py

from enrichment_logs.emulator import ProviderEmulator

KEY = "exa-test-key"
SEARCH = Decimal("0.007")  # one auto search of up to 10 results
PAGE = Decimal("0.001")  # one page of text
ANSWER = Decimal("0.005")


def test_a_search_is_one_row_with_the_cost_exa_reported(http_logs, emulator: ProviderEmulator):
    results = exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme news", num_results=5)

    [row] = http_logs.rows()
    assert len(results.results) == 5
    assert (row["provider"], row["operation"], row["status"]) == ("exa", "search", "success")
    assert (row["cost"], row["cost_source"]) == (SEARCH, "provider")
    attributes = json.loads(row["attributes"])
    assert attributes["enrichment.usage.search_type"] == "neural"
    assert attributes["enrichment.usage.results"] == 5


def test_contents_are_priced_per_page(http_logs, emulator: ProviderEmulator):
    exa = exa_py.Exa(KEY, base_url=emulator.exa_base_url)
    exa.get_contents(["https://acme.example", "https://acme.example/about"], text=True)

    [row] = http_logs.rows()
    assert (row["operation"], row["cost"]) == ("contents", 2 * PAGE)


def test_an_answer_is_priced_per_request(http_logs, emulator: ProviderEmulator):
    exa_py.Exa(KEY, base_url=emulator.exa_base_url).answer("Who founded Acme?")

    [row] = http_logs.rows()
    assert (row["operation"], row["cost"]) == ("answer", ANSWER)


async def test_the_async_client_is_logged_the_same_way(http_logs, emulator: ProviderEmulator):
    async with exa_py.AsyncExa(KEY, api_base=emulator.exa_base_url) as exa:
        await exa.search("Acme news", num_results=2)
        await exa.get_contents(["https://acme.example"], text=True)
        await exa.answer("Who founded Acme?")

    rows = http_logs.rows()
    assert [(row["operation"], row["cost"]) for row in rows] == [
        ("search", SEARCH),
        ("contents", PAGE),
        ("answer", ANSWER),
    ]
