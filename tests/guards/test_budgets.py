"""Budgets: calls that would pass a hard limit are refused before any request is sent, even when
hundreds race for the last dollar; warnings fire once per threshold; spend survives a restart."""

from __future__ import annotations

import asyncio
import logging
import threading
from decimal import Decimal

import exa_py
import pytest

import enrichment_logs as el
from enrichment_logs.cli import main
from enrichment_logs.emulator import ProviderEmulator
from tests.conftest import Logs, finished_spans
from tests.metrics.conftest import Collection

KEY = "exa-test-key"
SEARCH = Decimal("0.007")  # what the emulator's Exa reports for a search of up to 10 results


def search(emulator: ProviderEmulator, query: str = "Acme news") -> object:
    return exa_py.Exa(KEY, base_url=emulator.exa_base_url).search(query, num_results=5)


def test_200_threads_racing_the_last_dollar_never_pass_the_limit(guarded, emulator):
    logs = guarded(budgets="daily=1")
    refused: list[el.BudgetExceeded] = []
    lock = threading.Lock()

    def call(n: int) -> None:
        try:
            search(emulator, f"query {n}")
        except el.BudgetExceeded as error:
            with lock:
                refused.append(error)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    rows = logs.rows()
    paid = [row for row in rows if row["status"] == "success"]
    assert len(paid) == 142  # floor($1 / $0.007)
    assert sum(row["cost"] for row in paid) == Decimal("0.994")
    assert emulator.count("exa", "/search") == 142  # a refused call sends nothing
    assert len(refused) == 58
    assert [row["status"] for row in rows if row not in paid] == ["rejected"] * 58
    assert {row["cost"] for row in rows if row not in paid} == {Decimal(0)}
    assert "the daily budget of $1" in str(refused[0])


async def test_200_tasks_racing_the_last_dollar_never_pass_the_limit(guarded, emulator):
    logs = guarded(budgets="exa.daily=0.5")
    async with exa_py.AsyncExa(KEY, api_base=emulator.exa_base_url) as exa:
        outcomes = await asyncio.gather(
            *(exa.search(f"query {n}", num_results=5) for n in range(200)),
            return_exceptions=True,
        )

    refused = [outcome for outcome in outcomes if isinstance(outcome, el.BudgetExceeded)]
    rows = logs.rows()
    assert len(refused) == 200 - 71  # floor($0.50 / $0.007) searches were paid for
    assert sum(row["cost"] for row in rows) == 71 * SEARCH <= Decimal("0.5")
    assert emulator.count("exa", "/search") == 71
    assert "the exa daily budget of $0.5" in str(refused[0])


def test_each_warning_fires_once_as_a_log_line_a_span_event_and_a_metric(
    guarded, emulator, caplog, recorded
):
    caplog.set_level(logging.WARNING, logger="enrichment_logs.guards")
    logs = guarded(budgets="daily=0.05")
    spans = finished_spans()
    for _ in range(7):  # $0.049: 80 % was reached at the 6th
        search(emulator)
    for _ in range(2):  # both refused: the limit is reached
        with pytest.raises(el.BudgetExceeded):
            search(emulator)
    gauges = Collection.collect()
    logs.rows()

    warnings = [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.guards"]
    assert warnings == [
        "budget warning: 80% of the daily budget ($0.05) reached: $0.042 spent",
        "budget warning: 100% of the daily budget ($0.05) reached: $0.049 spent",
    ]
    events = [
        (span.name, dict(event.attributes or {}))
        for span in spans.get_finished_spans()
        for event in span.events
        if event.name == "enrichment.budget.warning"
    ]
    assert [(name, e["enrichment.budget.threshold"]) for name, e in events] == [
        ("exa search", 0.8),
        ("exa search", 1.0),
    ]
    daily = {"period": "day", "scope": "global", "provider": ""}
    assert gauges.value("enrichment_logs.budget.spent", **daily) == pytest.approx(0.049)
    assert gauges.value("enrichment_logs.budget.limit", **daily) == pytest.approx(0.05)
    warned = recorded.since_start().sums("enrichment_logs.budget.warnings")
    assert warned == {
        frozenset({**daily, "threshold": "0.8"}.items()): 1,
        frozenset({**daily, "threshold": "1"}.items()): 1,
    }


def test_spend_survives_a_restart(tmp_path, emulator, emulator_routes):
    db_path = tmp_path / "restart.duckdb"
    settings = {"provider_routes": emulator_routes, "instrument": True, "budgets": "daily=0.02"}
    first = Logs(db_path, **settings)
    search(emulator)
    search(emulator)
    first.rows()  # flushed and shut down: $0.014 spent today

    second = Logs(db_path, **settings)
    try:
        with pytest.raises(el.BudgetExceeded, match=r"\$0.014 spent or reserved"):
            search(emulator)
    finally:
        rows = second.rows()
    assert [row["status"] for row in rows] == ["success", "success", "rejected"]
    assert emulator.count("exa", "/search") == 2


def test_a_lead_that_costs_more_than_its_limit_is_stopped_and_other_leads_go_on(guarded, emulator):
    logs = guarded(budgets="lead.daily=0.01")
    with el.enrichment_session(lead_id="lead-1"):
        search(emulator)
        with pytest.raises(el.BudgetExceeded, match=r"per-lead daily \(lead lead-1\)"):
            search(emulator)
    with el.enrichment_session(lead_id="lead-2"):
        search(emulator)
    search(emulator)  # no lead: no lead limit

    rows = logs.rows()
    assert [(row["lead_id"], row["status"]) for row in rows] == [
        ("lead-1", "success"),
        ("lead-1", "rejected"),
        ("lead-2", "success"),
        (None, "success"),
    ]


def test_the_seed_api_is_refused_at_start_before_the_request(guarded):
    logs = guarded(budgets="daily=0.01")
    log_id = el.start_enrichment_log(provider="exa", operation="search", lead_id="lead-1")
    el.complete_enrichment_log(log_id, {"results": []}, cost="0.009")
    with pytest.raises(el.BudgetExceeded):
        el.start_enrichment_log(provider="exa", operation="search", lead_id="lead-1")

    rows = logs.rows()
    assert [(row["status"], row["cost"]) for row in rows] == [
        ("success", Decimal("0.009")),
        ("rejected", Decimal(0)),
    ]
    assert rows[1]["error_type"] == "enrichment_logs.guards.errors.BudgetExceeded"


def test_without_enforcement_limits_only_warn(guarded, emulator, caplog):
    caplog.set_level(logging.WARNING, logger="enrichment_logs.guards")
    logs = guarded(budgets="daily=0.01", budget_enforce=False, budget_warnings="100%")
    for _ in range(3):
        search(emulator)

    assert [row["status"] for row in logs.rows()] == ["success"] * 3
    assert [r.getMessage() for r in caplog.records if r.name == "enrichment_logs.guards"] == [
        "budget warning: 100% of the daily budget ($0.01) reached: $0.014 spent"
    ]


def test_the_budget_command_shows_spend_against_the_limits(
    tmp_path, emulator, emulator_routes, capsys
):
    db_path = tmp_path / "cli.duckdb"
    logs = Logs(db_path, provider_routes=emulator_routes, instrument=True)
    with el.enrichment_session(lead_id="lead-7"):
        search(emulator)
        search(emulator)
    logs.rows()

    assert (
        main(["budget", "--db", str(db_path), "--budgets", "daily=1,exa.daily=0.1,lead.daily=0.02"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "daily                                    0.014000     1.000000    1.4%" in printed
    assert "exa daily                                0.014000     0.100000   14.0%" in printed
    assert "per-lead daily (lead lead-7)             0.014000     0.020000   70.0%" in printed
    assert main(["budget", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
