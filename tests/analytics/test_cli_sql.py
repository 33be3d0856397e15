"""`enrichment-logs sql`: one read-only query on the table and the analytics views."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.analytics.cli_runs import parsed, run, widest_line

BY_PROVIDER = (
    "SELECT provider, count(*) AS calls, sum(cost) AS usd, min(started_at) AS first "
    "FROM enrichment_logs GROUP BY provider ORDER BY provider"
)


def test_a_query_as_json_csv_and_a_table(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    code, as_json, _ = run(capsys, "sql", BY_PROVIDER, "--db", str(db), "--format", "json")
    _, as_csv, _ = run(capsys, "sql", BY_PROVIDER, "--db", str(db), "--format", "csv")
    _, as_table, _ = run(capsys, "sql", BY_PROVIDER, "--db", str(db))

    assert code == 0
    assert parsed(as_json)[0] == {
        "provider": "exa",
        "calls": 5,
        "usd": Decimal("0.025"),
        "first": "2024-03-04T10:00:00+00:00",
    }
    assert list(csv.DictReader(io.StringIO(as_csv)))[2] == {
        "provider": "openai",
        "calls": "5",
        "usd": "0.0019000000",
        "first": "2024-03-04T10:00:01+00:00",
    }
    assert widest_line(as_table) <= 80
    assert ["perplexity", "1", "-", "2024-03-05", "04:30:02"] in [
        line.split() for line in as_table.splitlines()
    ]


def test_the_analytics_views_are_there_to_query(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "sql",
        "FROM lead_costs WHERE lead_id = 'lead-a'",
        "--db",
        str(db),
        "--format",
        "json",
    )

    assert code == 0
    assert parsed(out)[0]["known_cost"] == Decimal("0.0082")


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM enrichment_logs",
        "INSERT INTO enrichment_logs SELECT * FROM enrichment_logs",
        "DROP VIEW lead_costs",
        "COPY enrichment_logs TO 'out.csv'",
        "ATTACH 'other.duckdb'",
        "SET threads = 1",
    ],
)
def test_writes_are_refused_before_they_run(
    db: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    code, out, err = run(capsys, "sql", query, "--db", str(db))

    assert (code, out) == (2, "")
    assert err.startswith("enrichment-logs sql: refused:")
    assert "would change something, and sql only reads" in err
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM enrichment_logs").fetchone() == (12,)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT 1; SELECT 2", "give exactly one SQL statement, not 2"),
        ("SELEC 1", "the query failed: Parser Error"),
        ("SELECT nope FROM enrichment_logs", "the query failed: Binder Error"),
    ],
)
def test_a_bad_query_is_one_line_and_exit_code_2(
    db: Path, capsys: pytest.CaptureFixture[str], query: str, message: str
) -> None:
    code, _, err = run(capsys, "sql", query, "--db", str(db))

    assert code == 2
    assert message in err and len(err.splitlines()) == 1
