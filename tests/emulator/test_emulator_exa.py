"""`exa-py` against the emulator: every endpoint reports `costDollars` at Exa's list prices."""

from __future__ import annotations

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

exa_py = pytest.importorskip("exa_py")


def client(emulator: ProviderEmulator):
    return exa_py.Exa(KEY, base_url=emulator.exa_base_url)


def test_default_search_costs_seven_dollars_per_thousand(emulator: ProviderEmulator) -> None:
    response = client(emulator).search("Acme Corp competitors")

    assert len(response.results) == 10
    assert response.results[0].text
    assert response.resolved_search_type == "neural"
    assert response.cost_dollars.total == pytest.approx(0.007)
    assert response.cost_dollars.search == {"neural": pytest.approx(0.007)}
    assert response.cost_dollars.contents is None
    [request] = emulator.requests
    assert request.headers["x-api-key"] == KEY
    assert request.path == "/search"


def test_extra_results_and_summaries_are_charged(emulator: ProviderEmulator) -> None:
    response = client(emulator).search("Acme", num_results=25, contents={"summary": True})

    assert len(response.results) == 25
    assert response.results[0].summary
    assert response.cost_dollars.search["neural"] == pytest.approx(0.007 + 15 * 0.001)
    assert response.cost_dollars.contents == {"summary": pytest.approx(25 * 0.001)}
    assert response.cost_dollars.total == pytest.approx(0.022 + 0.025)


@pytest.mark.parametrize(("kind", "price"), [("lite", 0.004), ("deep", 0.012), ("fast", 0.007)])
def test_search_types_have_their_prices(
    emulator: ProviderEmulator, kind: str, price: float
) -> None:
    response = client(emulator).search("Acme", type=kind, contents=False)

    assert response.resolved_search_type == kind
    assert response.cost_dollars.total == pytest.approx(price)
    assert response.results[0].text is None


def test_contents_cost_a_dollar_per_thousand_pages_per_type(emulator: ProviderEmulator) -> None:
    response = client(emulator).get_contents(
        ["https://acme.example/about", "https://acme.example/pricing"], text=True, summary=True
    )

    assert [result.url for result in response.results] == [
        "https://acme.example/about",
        "https://acme.example/pricing",
    ]
    assert response.cost_dollars.total == pytest.approx(0.004)
    assert response.cost_dollars.contents == {"text": 0.002, "summary": 0.002}


def test_answer_costs_five_dollars_per_thousand(emulator: ProviderEmulator) -> None:
    response = client(emulator).answer("Who founded Acme Corp?")

    assert response.answer
    assert len(response.citations) == 3
    assert response.cost_dollars.total == pytest.approx(0.005)


def test_find_similar_is_served_and_priced_like_a_search(emulator: ProviderEmulator) -> None:
    with pytest.warns(DeprecationWarning, match="find_similar"):
        response = client(emulator).find_similar("https://acme.example", num_results=3)

    assert len(response.results) == 3
    assert response.cost_dollars.total == pytest.approx(0.007)


def test_a_bearer_key_is_accepted_and_a_missing_key_refused(emulator: ProviderEmulator) -> None:
    accepted = send(emulator.exa_base_url + "/search", {"query": "Acme"})
    refused = send(emulator.exa_base_url + "/search", {"query": "Acme"}, key=None)

    assert accepted.status == 200
    assert refused.status == 401
    assert refused.json()["tag"] == "INVALID_API_KEY"
    assert set(refused.json()) == {"requestId", "error", "tag"}


async def test_the_async_client(emulator: ProviderEmulator) -> None:
    async with exa_py.AsyncExa(KEY, api_base=emulator.exa_base_url) as async_client:
        response = await async_client.search("Acme", num_results=2)

    assert len(response.results) == 2
    assert response.cost_dollars.total == pytest.approx(0.007)
