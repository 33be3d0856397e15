"""Ops asks how reliable and how fast each provider is."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrichment_logs.analytics import get_performance_metrics
from tests.analytics.conftest import OPENAI_CHAT, utc


def test_success_and_error_rates_count_only_calls_that_reached_the_provider(db: Path) -> None:
    report = get_performance_metrics(db)
    by_key = {(row.provider, row.operation): row for row in report.operations}

    chat = by_key["openai", OPENAI_CHAT]
    # two successes, two errors, one answer from cache (not a call to OpenAI)
    assert (chat.calls, chat.successes, chat.errors, chat.cached_calls) == (5, 2, 2, 1)
    assert (chat.success_rate, chat.error_rate) == (0.5, 0.5)
    assert chat.retries == 3
    assert report.errors_by_type("openai", OPENAI_CHAT) == {"RateLimitError": 1, "TimeoutError": 1}
    assert by_key["exa", "search"].success_rate == 1.0
    assert report.errors_by_type("exa", "search") == {}


def test_latency_percentiles_interpolate_between_calls(db: Path) -> None:
    report = get_performance_metrics(db, provider="openai")

    (chat,) = report.operations
    # durations of the calls that reached OpenAI: 300, 600, 800, 5000 ms
    assert chat.p50_duration_ms == pytest.approx(700)
    assert chat.p95_duration_ms == pytest.approx(800 + 0.85 * 4200)
    assert chat.p99_duration_ms == pytest.approx(800 + 0.97 * 4200)
    exa = get_performance_metrics(db, provider="exa").operations[0]
    assert exa.p50_duration_ms == pytest.approx(150)  # of 50, 100, 150, 200, 300


def test_performance_in_an_empty_range_has_no_rows(db: Path) -> None:
    report = get_performance_metrics(db, date_range=(utc(2024, 3, 6), utc(2024, 3, 6)))

    assert report.rows() == []
    assert report.errors.rows() == []
