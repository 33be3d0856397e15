"""The response cache: an identical deterministic request within the TTL is answered from DuckDB,
as a real response the SDK parses; its row is `cached`, costs nothing and saves what the call that
fetched it cost."""

from __future__ import annotations

import time
from decimal import Decimal

import exa_py
import firecrawl
import httpx

import enrichment_logs as el
from tests.conftest import Logs

CREDIT = Decimal("99") / Decimal("100000")
SEARCH = Decimal("0.007")
EXA_KEY = {"x-api-key": "exa-test-key"}


def test_a_repeated_firecrawl_scrape_is_served_from_the_cache_even_after_a_restart(
    tmp_path, emulator, emulator_routes
):
    db_path = tmp_path / "cache.duckdb"
    settings = {
        "provider_routes": emulator_routes,
        "instrument": True,
        "cache": "firecrawl.scrape=1h",
    }
    client = firecrawl.Firecrawl(api_key="fc-key", api_url=emulator.firecrawl_base_url)
    first = Logs(db_path, **settings)
    fetched = client.scrape("https://acme.example/about", formats=["markdown"])
    served = client.scrape("https://ACME.example/about", formats=["markdown"])  # same page
    first.rows()
    second = Logs(db_path, **settings)
    again = client.scrape("https://acme.example/about", formats=["markdown"])
    other = client.scrape("https://acme.example/pricing", formats=["markdown"])

    rows = second.rows()
    assert served.markdown == again.markdown == fetched.markdown
    assert other.markdown != fetched.markdown
    assert emulator.count("firecrawl", "/v2/scrape") == 2
    assert [(row["status"], row["cache_hit"], row["cost"], row["cost_saved"]) for row in rows] == [
        ("success", False, CREDIT, None),
        ("cached", True, 0, CREDIT),
        ("cached", True, 0, CREDIT),
        ("success", False, CREDIT, None),
    ]
    assert rows[0]["request_hash"] == rows[1]["request_hash"] == rows[2]["request_hash"]
    assert rows[3]["request_hash"] != rows[0]["request_hash"]


async def test_an_exa_search_is_cached_whatever_the_key_order_and_client(guarded, emulator):
    logs = guarded(cache="exa.search=10m")
    async with exa_py.AsyncExa("exa-test-key", api_base=emulator.exa_base_url) as exa:
        fetched = await exa.search("Acme news", num_results=5)
        served = await exa.search("Acme news", num_results=5)
    url = emulator.exa_base_url + "/search"
    sent_by_exa_py = (
        b'{"query": "Acme news", "numResults": 5, "contents": {"text": {"maxCharacters": 10000}}}'
    )
    reordered = b'{"contents":{"text":{"maxCharacters":10000}},"numResults":5,"query":"Acme news"}'
    raw = httpx.post(url, content=reordered, headers=EXA_KEY)
    fresh = httpx.post(url, content=sent_by_exa_py.replace(b"5", b"6"), headers=EXA_KEY)

    rows = logs.rows()
    assert [r.url for r in served.results] == [r.url for r in fetched.results]
    assert raw.json()["results"][0]["url"] == fetched.results[0].url
    assert fresh.status_code == 200
    assert emulator.count("exa", "/search") == 2
    assert [row["status"] for row in rows] == ["success", "cached", "cached", "success"]
    assert sum(row["cost_saved"] or 0 for row in rows) == 2 * SEARCH


def test_a_tool_with_cache_ttl_is_not_run_again_within_the_ttl(make_logs):
    logs = make_logs()
    runs: list[str] = []

    @el.tool("exa", "search", cost=lambda result: result["cost"], cache_ttl="300ms")
    def search(query: str, *, results: int = 10) -> dict[str, object]:
        runs.append(query)
        return {"cost": "0.007", "titles": [f"{query} {n}" for n in range(results)]}

    first = search("Acme", results=2)
    served = search("Acme", results=2)
    search("Acme", results=3)
    time.sleep(0.3)
    search("Acme", results=2)  # the cached result expired

    rows = logs.rows()
    assert served == first and runs == ["Acme", "Acme", "Acme"]
    assert [(row["status"], row["cost"], row["cost_saved"]) for row in rows] == [
        ("success", SEARCH, None),
        ("cached", 0, SEARCH),
        ("success", SEARCH, None),
        ("success", SEARCH, None),
    ]


def test_results_that_are_not_json_are_never_cached(make_logs):
    logs = make_logs()
    runs: list[int] = []

    @el.tool("custom", "lookup", cache_ttl="1h")
    def lookup(n: int) -> tuple[int, int]:
        runs.append(n)
        return (n, n)  # a tuple would come back from JSON as a list

    lookup(1)
    lookup(1)
    assert runs == [1, 1]
    assert [row["status"] for row in logs.rows()] == ["success", "success"]


def test_a_log_written_before_cost_saved_existed_gains_the_column(tmp_path):
    from importlib import resources

    import duckdb

    from tests.conftest import read_rows

    db_path = tmp_path / "old.duckdb"
    schema = resources.files("enrichment_logs.export").joinpath("schema")
    with duckdb.connect(str(db_path)) as connection:  # the file as release 001 left it
        connection.execute(schema.joinpath("001_enrichment_logs.sql").read_text())
        connection.execute(
            "CREATE TABLE enrichment_logs_schema_version (version INTEGER PRIMARY KEY, "
            "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
        )
        connection.execute("INSERT INTO enrichment_logs_schema_version VALUES (1, '001', now())")
    logs = Logs(db_path, instrument=False, console=False)

    @el.tool("exa", "search", cost="0.007")
    def search() -> None:
        return None

    search()
    logs.rows()
    [row] = read_rows(db_path)
    assert row["cost_saved"] is None and row["cost"] == SEARCH
