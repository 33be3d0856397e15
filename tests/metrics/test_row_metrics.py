"""Every logged call is measured: GenAI histograms per call, counters equal to the rows."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

import enrichment_logs as el
from enrichment_logs.emulator import ProviderEmulator
from enrichment_logs.metrics.instruments import DURATION_BUCKETS, LABELS, TOKEN_USAGE_BUCKETS
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import enrich_all, sample_leads
from tests.metrics.conftest import Collection, labels

DURATION = "gen_ai.client.operation.duration"
TOKENS = "gen_ai.client.token.usage"


def run_calls(provider: str) -> None:
    """A chat call with usage, an embedding with 0 output tokens, two searches, one failure."""

    @el.tool(provider, "chat.completions.create", model="gpt-4o-mini")
    def chat() -> None:
        el.record_usage(
            model="gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=80, cost="0.0012"
        )

    @el.tool(provider, "embeddings.create", model="text-embedding-3-small")
    def embed() -> None:
        el.record_usage(model="text-embedding-3-small", input_tokens=50, output_tokens=0)

    @el.tool(provider, "search", cost="0.005")
    def search() -> dict[str, Any]:
        return {}

    @el.tool(provider, "search")
    def timed_out() -> None:
        raise TimeoutError("no answer in 30 s")

    with el.enrichment_session(lead_id="lead-metrics-1", company_id="acme-metrics"):
        chat()
        embed()
        search()
        search()
        with pytest.raises(TimeoutError):
            timed_out()


def test_each_call_records_the_genai_duration_and_token_histograms(recorded, make_logs):
    provider = f"acme-{uuid.uuid4().hex[:8]}"
    logs = make_logs()
    run_calls(provider)
    rows = logs.rows()
    delta = recorded.since_start()

    durations = {frozenset(labels(a).items()): h for a, h in delta.histograms(DURATION).items()}
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    }
    embeddings = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.response.model": "text-embedding-3-small",
    }
    search = {"gen_ai.operation.name": "search", "gen_ai.provider.name": provider}
    failed = {**search, "error.type": "TimeoutError"}
    counts = {frozenset(a.items()): 1 for a in (chat, embeddings, failed)}
    counts[frozenset(search.items())] = 2
    assert {key: h.count for key, h in durations.items()} == counts
    for histogram in durations.values():
        assert histogram.explicit_bounds == DURATION_BUCKETS  # seconds, the conventions' buckets
    seconds = sum(row["duration_ms"] for row in rows) / 1000
    assert sum(h.sum for h in durations.values()) == pytest.approx(seconds, rel=1e-9)

    tokens = {
        (dict(a)["gen_ai.operation.name"], dict(a)["gen_ai.token.type"]): h
        for a, h in delta.histograms(TOKENS).items()
    }
    assert {key: (h.count, h.sum) for key, h in tokens.items()} == {
        ("chat", "input"): (1, 1200),
        ("chat", "output"): (1, 80),
        ("embeddings", "input"): (1, 50),
        ("embeddings", "output"): (1, 0),  # a reported 0 is recorded; a failed call records none
    }
    chat_input = tokens[("chat", "input")]
    assert chat_input.explicit_bounds == TOKEN_USAGE_BUCKETS
    assert chat_input.bucket_counts[TOKEN_USAGE_BUCKETS.index(4096)] == 1  # 1024 < 1200 <= 4096


def test_no_metric_is_labelled_with_a_lead_company_or_session(recorded, make_logs):
    logs = make_logs()
    run_calls(f"acme-{uuid.uuid4().hex[:8]}")
    assert logs.handle.flush()
    collection = Collection.collect()
    assert collection.points
    for (name, attributes), _ in collection.points.items():
        keys = {key for key, _ in attributes}
        assert not {
            key for key in keys if any(word in key for word in ("lead", "company", "session"))
        }
        values = " ".join(str(value) for _, value in attributes)
        assert "lead-metrics-1" not in values
        assert "acme-metrics" not in values
        # The exporter's and the guards' instruments have their own labels (contracts.md).
        own = ("enrichment_logs.exporter", "enrichment_logs.budget", "enrichment_logs.breaker")
        if name.startswith("enrichment_logs.") and not name.startswith(own):
            assert keys <= set(LABELS), name


def test_counters_equal_the_rows_of_a_pipeline_run(recorded, make_logs):
    """The reference pipeline against the emulator, with failures: cost, calls and retries
    per provider, operation, model and status are exactly what SQL finds in the table."""
    with ProviderEmulator(seed=3, fail={"exa": 0.4, "firecrawl": 0.2}) as emulator:
        logs = make_logs(provider_routes=emulator_routes(emulator), instrument=True)
        clients = ProviderClients.from_environment(emulator)
        asyncio.run(enrich_all(sample_leads(8), clients, concurrency=4))
        log_id = el.start_enrichment_log(provider="exa", operation="search")
        el.fail_enrichment_log(log_id, "rate limited three times", retry_count=3)
        rows = logs.rows()
    delta = recorded.since_start()

    def key(row: dict[str, Any]) -> frozenset[tuple[str, Any]]:
        return frozenset((label, row[label]) for label in LABELS if row[label] is not None)

    expected_cost: dict[frozenset[tuple[str, Any]], Decimal] = defaultdict(Decimal)
    expected_calls: dict[frozenset[tuple[str, Any]], int] = defaultdict(int)
    expected_retries: dict[frozenset[tuple[str, Any]], int] = defaultdict(int)
    for row in rows:
        expected_calls[key(row)] += 1
        if row["cost"] is not None:
            expected_cost[key(row)] += row["cost"]
        if row["retry_count"]:
            expected_retries[key(row)] += row["retry_count"]
    assert {row["status"] for row in rows} == {"success", "error"}

    assert delta.sums("enrichment_logs.calls") == expected_calls
    assert delta.sums("enrichment_logs.retries") == expected_retries
    costs = delta.sums("enrichment_logs.cost")
    assert costs.keys() == expected_cost.keys()
    for attributes, cost in expected_cost.items():
        assert costs[attributes] == pytest.approx(float(cost), rel=1e-12, abs=1e-15)
    assert sum(costs.values()) == pytest.approx(float(sum(expected_cost.values())), rel=1e-12)

    tokens: dict[tuple[str, str], float] = defaultdict(float)
    for attributes, histogram in delta.histograms(TOKENS).items():
        tokens[
            (labels(attributes)["gen_ai.provider.name"], labels(attributes)["gen_ai.token.type"])
        ] += histogram.sum
    expected_tokens: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        if row["status"] == "success":
            for kind in ("input", "output"):
                if row[f"{kind}_tokens"] is not None:
                    expected_tokens[(row["provider"], kind)] += row[f"{kind}_tokens"]
    assert tokens == expected_tokens


def test_exporter_health_follows_the_handle(recorded, make_logs):
    logs = make_logs()
    run_calls(f"acme-{uuid.uuid4().hex[:8]}")
    assert logs.handle.flush()
    collection = Collection.collect()
    stats = logs.handle.stats
    assert stats.rows_written == 5
    assert collection.value("enrichment_logs.exporter.rows_written") == stats.rows_written
    assert collection.value("enrichment_logs.exporter.rows_spooled") == 0
    assert collection.value("enrichment_logs.exporter.rows_dropped") == 0
    assert collection.value("enrichment_logs.exporter.store_failures") == 0

    logs.handle.shutdown()
    assert Collection.collect().value("enrichment_logs.exporter.rows_written") is None
