"""Ops asks how reliable and how fast each provider is."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from enrichment_logs.analytics import create_views, get_performance_metrics
from enrichment_logs.analytics.html_report import render_report
from enrichment_logs.export.duckdb_store import DuckDBStore
from tests.analytics.cli_runs import as_json, parsed, run
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


def test_a_small_log_has_exact_percentiles_of_every_call(db: Path) -> None:
    report = get_performance_metrics(db)

    assert (report.percentile_sample, report.percentiles_exact) == (1, True)
    for row in report.operations:
        assert row.percentiles_exact
        assert row.percentile_calls == row.successes + row.errors
    assert get_performance_metrics(db, exact=True) == report


# --- a log too large for exact percentiles by default ------------------------------------------
LARGE_CALLS = 1_100_000
"""Just over the 1 000 000 calls up to which percentiles are exact: a 1-in-2 sample."""
LARGE_START = datetime(2024, 5, 1, tzinfo=UTC)
SECOND_US = 1_000_000


@pytest.fixture(scope="module")
def large_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.1 million calls, one a second from 2024-05-01, in a real log file (the store's schema
    and views), written by one INSERT: through the exporter this would take minutes. Two
    providers; durations spread over 50-5 049 ms; one call in 50 is served from cache."""
    path = tmp_path_factory.mktemp("large") / "large.duckdb"
    DuckDBStore(path).close()
    start_us = int(LARGE_START.timestamp()) * SECOND_US
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            f"""
            INSERT INTO enrichment_logs (id, trace_id, span_id, provider, operation, cost_source,
                currency, started_at, completed_at, duration_ms, status)
            SELECT
                uuid(), printf('%032x', i), printf('%016x', i),
                CASE WHEN i % 2 = 0 THEN 'exa' ELSE 'openai' END, 'search', 'unknown', 'USD',
                make_timestamptz({start_us} + i * {SECOND_US}),
                make_timestamptz({start_us} + i * {SECOND_US} + 1000 * (50 + i * 7919 % 5000)),
                50 + i * 7919 % 5000,
                CASE WHEN i % 50 = 0 THEN 'cached' ELSE 'success' END
            FROM range({LARGE_CALLS}) AS numbers (i)
            """
        )
    return path


def test_a_large_log_has_percentiles_of_a_fixed_sample_close_to_exact(large_log: Path) -> None:
    sampled = get_performance_metrics(large_log)
    exact = get_performance_metrics(large_log, exact=True)

    assert (sampled.percentile_sample, sampled.percentiles_exact) == (2, False)
    assert (exact.percentile_sample, exact.percentiles_exact) == (1, True)
    for row, whole in zip(sampled.operations, exact.operations, strict=True):
        reached = row.successes + row.errors
        assert 0.45 * reached < row.percentile_calls < 0.55 * reached
        assert not row.percentiles_exact
        assert (whole.percentile_calls, whole.percentiles_exact) == (reached, True)
        # every count is exact either way; only the percentiles differ
        assert (row.calls, row.successes, row.cached_calls) == (
            whole.calls,
            whole.successes,
            whole.cached_calls,
        )
        for figure in ("p50_duration_ms", "p95_duration_ms", "p99_duration_ms"):
            assert getattr(row, figure) == pytest.approx(getattr(whole, figure), rel=0.01)
    assert exact.operations[0].p50_duration_ms == _quantile(large_log, "exa", 0.5)


def test_the_same_log_gives_the_same_sample_in_every_reader(
    large_log: Path, tmp_path: Path
) -> None:
    first = get_performance_metrics(large_log)
    copy = Path(shutil.copy(large_log, tmp_path / "copy.duckdb"))
    with duckdb.connect(str(copy)) as connection:
        create_views(connection)
        view = connection.execute(
            "SELECT * FROM provider_performance ORDER BY provider, operation"
        ).fetchall()
        again = get_performance_metrics(connection)

    assert again == first
    assert view == [tuple(row.values()) for row in first.rows()]


def test_a_range_of_fewer_calls_is_exact_again(large_log: Path) -> None:
    week = (LARGE_START, LARGE_START + timedelta(days=7))  # 604 800 calls

    report = get_performance_metrics(large_log, date_range=week)

    assert report.percentile_sample == 1
    assert all(row.percentiles_exact for row in report.operations)


def test_the_report_says_when_its_percentiles_are_sampled(
    large_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "--db", str(large_log))
    assert code == 0
    assert "p50 and p95 of a fixed sample, 1 call in 2 (--exact: every call)" in out

    code, out, _ = run(capsys, "report", "--db", str(large_log), "--exact", "--format", "json")
    assert code == 0
    assert parsed(out)["performance"] == as_json(get_performance_metrics(large_log, exact=True))

    assert 'data-percentile-sample="2"' in render_report(large_log)
    assert "data-percentile-sample" not in render_report(large_log, exact=True)


def _quantile(path: Path, provider: str, fraction: float) -> float:
    with duckdb.connect(str(path), read_only=True) as connection:
        found = connection.execute(
            "SELECT quantile_cont(duration_ms, ?) FROM enrichment_logs "
            "WHERE provider = ? AND status IN ('success', 'error')",
            [fraction, provider],
        ).fetchone()
    assert found is not None
    return float(found[0])
