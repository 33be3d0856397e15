"""`enrichment-logs leads`: the most expensive leads and companies, and one lead's calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrichment_logs import analytics
from tests.analytics.cli_runs import as_json, parsed, run, widest_line
from tests.analytics.conftest import utc


def test_the_json_is_the_top_leads_and_companies_of_the_api(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "leads",
        "--db",
        str(db),
        "-n",
        "3",
        "--from",
        "2024-03-05",
        "--to",
        "2024-03-08",
        "--format",
        "json",
    )

    assert code == 0
    top = analytics.get_top_leads(db, 3, date_range=(utc(2024, 3, 5), utc(2024, 3, 8)))
    assert parsed(out) == as_json(top)
    assert [lead["lead_id"] for lead in parsed(out)["leads"]] == ["lead-c", "lead-b", "lead-d"]


def test_one_leads_json_is_its_details_from_the_api(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "leads", "--db", str(db), "--lead", "lead-c", "--format", "json")

    assert code == 0
    assert parsed(out) == as_json(analytics.get_lead_cost_details(db, "lead-c"))


def test_the_tables_fit_80_columns(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    code, out, _ = run(capsys, "leads", "--db", str(db))
    _, details, _ = run(capsys, "leads", "--db", str(db), "--lead", "lead-c")

    assert code == 0
    assert max(widest_line(out), widest_line(details)) <= 80
    rows = [line.split() for line in out.splitlines()]
    assert ["lead-c", "globex", "3", "1", "0.010700"] in [row[:5] for row in rows]
    assert ["acme", "2", "6", "0.013200+?"] in [row[:4] for row in rows]  # unknown costs
    assert "3 calls, $0.010700 known" in details.splitlines()
    assert any(
        line.split()[2:6] == ["openai", "chat.completions.create", "error", "5,000"]
        for line in details.splitlines()
    )


def test_a_lead_id_with_sql_in_it_is_only_a_value(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "leads", "--db", str(db), "--lead", "x' OR '1'='1", "--format", "json"
    )

    assert code == 0
    assert parsed(out)["totals"]["calls"] == 0
    assert analytics.get_enrichment_costs(db).totals.calls == 12


def test_one_lead_takes_no_time_range(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "leads", "--db", str(db), "--lead", "lead-a", "--since", "7d")

    assert code == 2
    assert "--lead shows every call of the lead" in err
