"""`enrichment-logs demo` on a fresh checkout: all four providers priced, every row attributed."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import duckdb

from enrichment_logs.cli import main


def test_the_demo_writes_priced_attributed_rows_for_all_four_providers(tmp_path, capsys):
    db_path = tmp_path / "demo.duckdb"
    assert main(["demo", "--leads", "25", "--db", str(db_path)]) == 0
    printed = capsys.readouterr().out
    with duckdb.connect(str(db_path), read_only=True) as connection:
        providers = connection.execute(
            "SELECT provider, count(*), count(cost) FROM enrichment_logs GROUP BY provider"
        ).fetchall()
        unattributed = connection.execute(
            "SELECT count(*) FROM enrichment_logs WHERE lead_id IS NULL OR company_id IS NULL"
        ).fetchone()
        per_lead = connection.execute(
            "SELECT lead_id, sum(cost) FROM enrichment_logs GROUP BY lead_id ORDER BY lead_id"
        ).fetchall()
    assert {provider for provider, _, _ in providers} == {
        "openai",
        "perplexity",
        "exa",
        "firecrawl",
    }
    assert all(calls == 25 and priced == 25 for _, calls, priced in providers)
    assert unattributed == (0,)
    assert len(per_lead) == 25
    for lead_id, cost in per_lead:
        assert f"{lead_id} " in printed
        assert f"{cost:>10.6f}" in printed

    report = tmp_path / "demo-report.html"
    assert f"The report, to open in a browser: {report}" in printed
    total = re.search(r'data-figure="known_cost" data-value="([0-9.]+)"', report.read_text())
    assert total is not None
    assert Decimal(total.group(1)) == sum(cost for _, cost in per_lead)


def test_the_demo_opens_exas_breaker_and_finishes_the_other_providers_work(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="enrichment_logs.guards")
    db_path = tmp_path / "demo.duckdb"
    assert main(["demo", "--leads", "10", "--db", str(db_path), "--fail", "exa=1.0"]) == 0
    with duckdb.connect(str(db_path), read_only=True) as connection:
        statuses = dict(
            connection.execute(
                "SELECT provider, list_sort(list(status)) FROM enrichment_logs GROUP BY ALL"
            ).fetchall()
        )
    assert "circuit breaker exa opened (3 failures in a row within 60s)" in caplog.text
    exa = statuses["exa"]
    assert len(exa) == 10 and exa.count("error") >= 3 and exa.count("rejected") >= 1
    assert set(exa) == {"error", "rejected"}  # no request after the breaker opened succeeded
    for provider in ("firecrawl", "openai", "perplexity"):
        assert statuses[provider] == ["success"] * 10


def test_running_the_demo_again_on_the_same_file_still_checks_out(tmp_path):
    db_path = tmp_path / "demo.duckdb"
    report = tmp_path / "reports" / "again.html"
    report.parent.mkdir()
    assert main(["demo", "--leads", "3", "--db", str(db_path)]) == 0
    assert main(["demo", "--leads", "3", "--db", str(db_path), "--report", str(report)]) == 0
    assert 'data-figure="calls" data-value="24"' in report.read_text()  # both runs: 2 x 3 x 4
