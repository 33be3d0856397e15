"""`enrichment-logs demo` on a fresh checkout: all four providers priced, every row attributed."""

from __future__ import annotations

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


def test_the_demo_finishes_the_other_providers_when_one_always_fails(tmp_path):
    db_path = tmp_path / "demo.duckdb"
    assert main(["demo", "--leads", "5", "--db", str(db_path), "--fail", "exa=1.0"]) == 0
    with duckdb.connect(str(db_path), read_only=True) as connection:
        statuses = dict(
            connection.execute(
                "SELECT provider, list_distinct(list(status)) FROM enrichment_logs GROUP BY ALL"
            ).fetchall()
        )
    assert statuses["exa"] == ["error"]
    assert statuses["firecrawl"] == statuses["openai"] == statuses["perplexity"] == ["success"]


def test_running_the_demo_again_on_the_same_file_still_checks_out(tmp_path):
    db_path = tmp_path / "demo.duckdb"
    report = tmp_path / "reports" / "again.html"
    report.parent.mkdir()
    assert main(["demo", "--leads", "3", "--db", str(db_path)]) == 0
    assert main(["demo", "--leads", "3", "--db", str(db_path), "--report", str(report)]) == 0
    assert 'data-figure="calls" data-value="24"' in report.read_text()  # both runs: 2 x 3 x 4
