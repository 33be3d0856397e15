"""`enrichment-logs report`: the API's figures in a terminal, as JSON, CSV or an HTML page."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from enrichment_logs import analytics
from tests.analytics.cli_runs import as_json, parsed, run, widest_line
from tests.analytics.conftest import utc

MARCH_4_TO_8 = ("--from", "2024-03-04", "--to", "2024-03-08")


def test_the_json_is_the_python_apis_results(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "report", "--db", str(db), *MARCH_4_TO_8, "--lead", "lead-b", "--format", "json"
    )

    week = (utc(2024, 3, 4), utc(2024, 3, 8))
    assert (code, err) == (0, "")
    assert parsed(out) == {
        "costs": as_json(analytics.get_enrichment_costs(db, date_range=week)),
        "performance": as_json(analytics.get_performance_metrics(db, date_range=week)),
        "trends": as_json(analytics.get_usage_trends(db, interval="day", date_range=week)),
        "lead": as_json(analytics.get_lead_cost_details(db, "lead-b")),
    }


def test_filters_reach_every_section(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "report",
        "--db",
        str(db),
        "--provider",
        "exa",
        "--interval",
        "hour",
        *MARCH_4_TO_8,
        "--format",
        "json",
    )

    report = parsed(out)
    assert code == 0
    assert report["costs"]["totals"]["calls"] == 5
    assert {row["provider"] for row in report["performance"]["operations"]} == {"exa"}
    assert report["trends"]["interval"] == "hour"
    assert len(report["trends"]["points"]) == 4 * 24
    assert report["lead"] is None


def test_a_short_range_is_shown_per_hour(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "24h", "--format", "json")

    assert code == 0
    assert parsed(out)["trends"] == {"interval": "hour", "points": []}  # no calls this week


def test_the_tables_fit_80_columns_and_show_the_figures(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    code, out, _ = run(capsys, "report", "--db", str(db), "--lead", "lead-b")

    assert code == 0
    assert widest_line(out) <= 80
    lines = out.splitlines()
    assert "12 calls, $0.028900 known, 2 of unknown cost" in lines
    assert any(
        line.split()[:5] == ["openai", "chat.completions.create", "5", "1", "0.001900"]
        for line in lines
    )
    assert any(
        line.split()[:4] == ["openai", "chat.completions.create", "5", "50.0%"] for line in lines
    )
    assert any("RateLimitError" in line for line in lines)
    assert any(line.startswith("firecrawl") and "█▁▁▁" in line for line in lines)  # a sparkline
    assert "Lead lead-b" in lines
    assert any("unknown" in line and "perplexity" in line for line in lines)  # a call's cost


def test_csv_has_one_block_per_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "--db", str(db), "--format", "csv")

    blocks = {
        block.splitlines()[0]: list(csv.DictReader(io.StringIO("\n".join(block.splitlines()[1:]))))
        for block in out.split("\n\n")
    }
    assert code == 0
    assert list(blocks) == ["# costs", "# performance", "# errors", "# trends"]
    expected = analytics.get_enrichment_costs(db).rows()
    assert [(r["provider"], r["operation"], r["known_cost"]) for r in blocks["# costs"]] == [
        (r["provider"], r["operation"], format(r["known_cost"], "f")) for r in expected
    ]


def test_html_writes_the_page_of_the_same_options(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"

    code, out, err = run(
        capsys, "report", "--db", str(db), "--format", "html", "-o", str(page), "--provider", "exa"
    )

    html = page.read_text(encoding="utf-8")
    assert (code, out, err) == (0, "", "")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "exa" in html and "<script" not in html


@pytest.mark.parametrize("command", ["report", "leads", "tail", "sql"])
@pytest.mark.parametrize("kind", ["missing", "text", "sqlite"])
def test_a_missing_or_foreign_file_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str
) -> None:
    path = tmp_path / "logs.duckdb"
    if kind == "text":
        path.write_text("id,cost\n1,0.5\n")
    elif kind == "sqlite":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE t (x)")
    extra = ["SELECT 1"] if command == "sql" else []

    code, out, err = run(capsys, command, *extra, "--db", str(path))

    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"enrichment-logs {command}: {path}")
    assert ("does not exist" if kind == "missing" else "not a DuckDB database") in err


def test_the_installed_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("enrichment-logs")

    done = subprocess.run(
        [str(command), "report", "--db", str(tmp_path / "nowhere.duckdb")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().endswith(
        "nowhere.duckdb does not exist: give the path of an enrichment-logs DuckDB file"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2024-03-08", "--to", "2024-03-04"], "is before --from"),
        (["--to", "2024-03-04"], "--to needs --from"),
        (["--since", "7d", "--to", "2024-03-04"], "not both"),
        (["--interval", "fortnight"], "interval must be one of"),
    ],
)
def test_options_that_cannot_work_are_one_line_and_exit_code_2(
    db: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    code, out, err = run(capsys, "report", "--db", str(db), *options)

    assert (code, out) == (2, "")
    assert message in err and len(err.splitlines()) == 1


def test_a_bad_time_span_is_refused_by_the_parser(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "report", "--db", str(db), "--since", "7 days")

    assert exited.value.code == 2
    assert "expected a span such as 30m, 24h, 7d or 2w" in capsys.readouterr().err
