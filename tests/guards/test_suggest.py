"""`enrichment-logs suggest` finds the identical requests a test planted in the log and computes
what a cache with the given TTL would have saved, with the line that turns it on."""

from __future__ import annotations

import time
from decimal import Decimal

import exa_py
import firecrawl
import pytest

from enrichment_logs.cli import main
from tests.conftest import Logs

CREDIT = Decimal("99") / Decimal("100000")
SEARCH = Decimal("0.007")


@pytest.fixture
def planted(tmp_path, emulator, emulator_routes):
    """Scrapes of one page: two, 1.2 s apart, two more; two identical searches; one unique."""
    db_path = tmp_path / "planted.duckdb"
    logs = Logs(db_path, provider_routes=emulator_routes, instrument=True)
    scraper = firecrawl.Firecrawl(api_key="fc-key", api_url=emulator.firecrawl_base_url)
    exa = exa_py.Exa("exa-key", base_url=emulator.exa_base_url)
    for _ in range(2):
        scraper.scrape("https://acme.example/about", formats=["markdown"])
        exa.search("Acme news", num_results=5)
    exa.search("Bluefin news", num_results=5)
    time.sleep(1.2)
    for _ in range(2):
        scraper.scrape("https://acme.example/about", formats=["markdown"])
    logs.rows()
    return db_path


def test_suggest_finds_the_repeats_and_what_a_one_hour_cache_saves(planted, capsys):
    assert main(["suggest", "--db", str(planted)]) == 0

    printed = capsys.readouterr().out.splitlines()
    assert (
        f"firecrawl    scrape                            1       4       3 {3 * CREDIT:>12.6f}"
        in printed
    )
    assert (
        f"exa          search                            1       2       1 {SEARCH:>12.6f}"
        in printed
    )
    assert (
        f"A cache would have answered 4 calls and saved ${3 * CREDIT + SEARCH:.6f}. " in printed[-2]
    )
    assert printed[-1] == 'ENRICHMENT_LOGS_CACHE="exa.search=1h,firecrawl.scrape=1h"'


def test_a_short_ttl_pays_again_once_the_cached_response_expired(planted, capsys):
    assert main(["suggest", "--db", str(planted), "--ttl", "1s"]) == 0

    printed = capsys.readouterr().out.splitlines()
    assert (
        f"firecrawl    scrape                            1       4       2 {2 * CREDIT:>12.6f}"
        in printed
    )
    assert printed[-1] == 'ENRICHMENT_LOGS_CACHE="exa.search=1s,firecrawl.scrape=1s"'


def test_suggest_explains_bad_input_in_one_line(tmp_path, capsys):
    assert main(["suggest", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("enrichment-logs suggest: ")
    with pytest.raises(SystemExit) as exited:
        main(["suggest", "--ttl", "soon"])
    assert exited.value.code == 2
    assert "'soon' is not a duration" in capsys.readouterr().err
