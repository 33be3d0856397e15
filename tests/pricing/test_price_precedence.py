"""A cost the provider reports wins; then the user's override file; then our price tables."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from enrichment_logs.pricing import overrides
from enrichment_logs.pricing.engine import CostEngine
from enrichment_logs.pricing.overrides import PriceOverrideError
from enrichment_logs.pricing.usage import Usage

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
M = D(1_000_000)

GPT_4O_AT_CONTRACT_RATES = """
[models.openai."gpt-4o"]
input = "2"
cached_input = "0.5"
output = "8"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-prices.toml"
    path.write_text(text)
    return path


def test_a_reported_cost_wins_over_every_price(tmp_path: Path) -> None:
    engine = CostEngine(overrides_path=write(tmp_path, '[perplexity.tool]\nsearch_web = "1"\n'))
    usage = Usage(
        model="perplexity/sonar",
        input_tokens=1000,
        output_tokens=500,
        reported_cost=D("0.0123456789"),
        extra={"tool.search_web": 3},
    )

    cost = engine.price("perplexity", "responses.create", usage, AT)

    assert cost.amount == D("0.0123456789")
    assert str(cost.amount) == "0.0123456789"
    assert cost.source == "provider"


def test_an_override_model_beats_genai_prices(tmp_path: Path) -> None:
    path = write(tmp_path, GPT_4O_AT_CONTRACT_RATES)
    usage = Usage(model="gpt-4o", input_tokens=1000, cached_input_tokens=200, output_tokens=500)

    cost = CostEngine(overrides_path=path).price("openai", "chat.completions.create", usage, AT)

    assert cost.amount == (800 * D("2") + 200 * D("0.5") + 500 * D("8")) / M
    assert cost.source == "override"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert cost.price_version == f"override my-prices.toml sha256:{digest}"


def test_an_override_model_also_prices_its_dated_snapshots(tmp_path: Path) -> None:
    engine = CostEngine(overrides_path=write(tmp_path, GPT_4O_AT_CONTRACT_RATES))
    usage = Usage(model="gpt-4o-2024-11-20", input_tokens=1000)

    assert engine.price("openai", "responses.create", usage, AT).amount == 1000 * D("2") / M


def test_cache_prices_left_out_of_an_override_default_to_the_input_price(tmp_path: Path) -> None:
    engine = CostEngine(
        overrides_path=write(tmp_path, '[models.acme."acme-1"]\ninput = "1"\noutput = "3"\n')
    )
    usage = Usage(
        model="acme-1",
        input_tokens=1000,
        cached_input_tokens=300,
        cache_write_tokens=200,
        output_tokens=100,
    )

    cost = engine.price("acme", "chat", usage, AT)

    assert cost.amount == (1000 * D("1") + 100 * D("3")) / M
    assert cost.source == "override"


def test_an_overridden_exa_price_is_used_and_the_rest_comes_from_the_table(tmp_path: Path) -> None:
    engine = CostEngine(overrides_path=write(tmp_path, '[exa.search]\nauto = "0.005"\n'))

    cost = engine.price("exa", "search", Usage(extra={"results": 12}), AT)

    assert cost.amount == D("0.005") + 2 * D("1") / 1000
    assert cost.source == "override"
    assert cost.price_version is not None
    assert cost.price_version.startswith("override my-prices.toml sha256:")
    assert cost.price_version.endswith("; enrichment-logs prices 2026-11-25")


def test_an_override_price_may_be_written_per_thousand(tmp_path: Path) -> None:
    text = '[perplexity.search]\nweb = { usd = "4", per = 1000 }\n'
    engine = CostEngine(overrides_path=write(tmp_path, text))

    assert engine.price("perplexity", "search", Usage(), AT).amount == D("4") / 1000


def test_the_documented_override_example_works(tmp_path: Path) -> None:
    assert overrides.__doc__ is not None
    example = overrides.__doc__.split("Format::")[1].split("Rules:")[0]
    engine = CostEngine(overrides_path=write(tmp_path, textwrap.dedent(example)))

    exa = engine.price("exa", "search", Usage(extra={"results": 11}), AT)
    scrape = engine.price("firecrawl", "scrape", Usage(credits=D(10)), AT)

    assert exa.amount == D("0.005") + D("1") / 1000
    assert scrape.amount == 10 * D("0.00083")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param("[models\n", "not a valid TOML file", id="not TOML"),
        pytest.param(
            '[exa.search]\nautoo = "0.005"\n',
            "exa.search.autoo: not a price name of prices.toml (did you mean exa.search.auto?)",
            id="misspelled price",
        ),
        pytest.param(
            "[exa.search]\nauto = 0.005\n",
            'exa.search.auto: write the amount as a string, e.g. "0.005"',
            id="float",
        ),
        pytest.param('[exa]\nanswer = "-1"\n', "exa.answer", id="negative"),
        pytest.param(
            '[models.openai."gpt-4o"]\ninput = "2"\n',
            'models.openai."gpt-4o".output: missing',
            id="no output price",
        ),
        pytest.param(
            '[models.openai.gpt-4.1-nano]\ninput = "1"\noutput = "1"\n',
            "quote a model name that contains dots",
            id="unquoted dotted model",
        ),
        pytest.param(
            '[firecrawl.credits]\nmap = "2"\n',
            "firecrawl.credits.map: a credit rule, not a price",
            id="credit rule",
        ),
    ],
)
def test_a_malformed_override_file_is_refused_with_the_file_and_key_named(
    tmp_path: Path, text: str, names: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(PriceOverrideError) as error:
        CostEngine(overrides_path=path)

    assert str(path) in str(error.value)
    assert names in str(error.value)


def test_a_missing_override_file_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(PriceOverrideError, match="cannot read"):
        CostEngine(overrides_path=tmp_path / "absent.toml")
