"""Lead ids full of SQL metacharacters select exactly their own rows, through the Python API and
every CLI command that takes one, and erasing one erases nothing else: every query path binds
its values as parameters instead of splicing them into SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import enrichment_logs as el
from enrichment_logs import analytics
from enrichment_logs.cli import main
from tests.conftest import Logs

HOSTILE_IDS = (
    "x' OR '1'='1",
    "'; DROP TABLE enrichment_logs; --",
    'lead"; SELECT 1; --',
    "lead-1' UNION SELECT * FROM enrichment_logs --",
    "%",
    "_",
    "\\",
    "$lead_id",
    "?",
    "{lead_id}",
    "ünï'cödé \U0001d54f",
)
BYSTANDER = "lead-bystander"
CALLS_PER_LEAD = 2


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "enrichment_logs.duckdb"
    logs = Logs(path)

    @el.tool("exa", "search", cost="0.007")
    def search(query: str) -> str:
        return query

    for lead in (*HOSTILE_IDS, BYSTANDER):
        with el.enrichment_session(lead_id=lead, company_id=lead):
            for n in range(CALLS_PER_LEAD):
                search(f"{lead} {n}")
    assert len(logs.rows()) == (len(HOSTILE_IDS) + 1) * CALLS_PER_LEAD
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("lead", HOSTILE_IDS)
def test_the_python_api_selects_exactly_the_leads_own_rows(db_path, lead):
    details = analytics.get_lead_cost_details(db_path, lead)
    costs = analytics.get_enrichment_costs(db_path, lead_id=lead, company_id=lead)

    assert [call.lead_id for call in details.calls] == [lead] * CALLS_PER_LEAD
    assert details.totals.calls == costs.totals.calls == CALLS_PER_LEAD
    ranked = {row.lead_id for row in analytics.get_top_leads(db_path, 100).leads}
    assert ranked == {*HOSTILE_IDS, BYSTANDER}


@pytest.mark.parametrize("lead", HOSTILE_IDS)
def test_cli_commands_select_exactly_the_leads_own_rows(db_path, lead, capsys):
    tail = cli(
        capsys, "tail", "--db", str(db_path), "--lead", lead, "-n", "100", "--format", "json"
    )
    leads = json.loads(
        cli(capsys, "leads", "--db", str(db_path), "--lead", lead, "--format", "json")
    )

    assert [json.loads(line)["lead_id"] for line in tail.splitlines()] == [lead] * CALLS_PER_LEAD
    assert leads["lead_id"] == lead
    assert len(leads["calls"]) == CALLS_PER_LEAD
    report = json.loads(
        cli(capsys, "report", "--db", str(db_path), "--lead", lead, "--format", "json")
    )["lead"]
    assert (report["lead_id"], report["totals"]["calls"]) == (lead, CALLS_PER_LEAD)


def test_forgetting_a_hostile_lead_erases_its_rows_and_nothing_else(db_path, capsys):
    cli(capsys, "forget", "--db", str(db_path), "--lead", HOSTILE_IDS[0])

    remaining = {row.lead_id for row in analytics.get_top_leads(db_path, 100).leads}
    assert remaining == {*HOSTILE_IDS[1:], BYSTANDER}
    assert analytics.get_enrichment_costs(db_path).totals.calls == len(HOSTILE_IDS) * CALLS_PER_LEAD
