"""`enrichment-logs store migrate`: a demo database moved into a lake gives the same analytics, and
running it again (after an interruption) copies only what is missing."""

from __future__ import annotations

from enrichment_logs import analytics
from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url
from tests.analytics.cli_runs import run


def test_a_migrated_demo_database_gives_the_same_analytics_in_the_lake(
    capsys, postgres_lake, tmp_path
):
    demo = tmp_path / "demo.duckdb"
    assert run(capsys, "demo", "--leads", "6", "--db", str(demo))[0] == 0

    code, out, err = run(
        capsys, "store", "migrate", "--from", f"duckdb:{demo}", "--to", postgres_lake,
        "--batch-rows", "7",
    )  # fmt: skip
    assert code == 0, err
    assert "24 rows copied, 0 there" in out

    for figures in (
        lambda db: analytics.get_enrichment_costs(db, group_by=("provider", "operation")),
        analytics.get_performance_metrics,
        lambda db: analytics.get_usage_trends(db, interval="hour"),
        lambda db: analytics.get_top_leads(db, 10),
        analytics.get_cost_per_enrichment,
        lambda db: analytics.get_lead_cost_details(db, "lead-003"),
    ):
        assert figures(postgres_lake) == figures(demo)

    url = parse_store_url(postgres_lake)
    assert isinstance(url, DuckLakeUrl)
    with connect_lake(url, read_only=False) as lake:  # as if the first run had stopped short
        lake.execute("DELETE FROM enrichment_logs WHERE lead_id = 'lead-002'")
    code, out, err = run(capsys, "store", "migrate", "--from", str(demo), "--to", postgres_lake)
    assert code == 0, err
    assert "4 rows copied, 20 there" in out
    assert analytics.get_enrichment_costs(postgres_lake) == analytics.get_enrichment_costs(demo)


def test_migrate_says_what_it_needs(capsys, sqlite_lake, tmp_path):
    code, _, err = run(capsys, "store", "migrate", "--from", sqlite_lake, "--to", sqlite_lake)
    assert code == 2
    assert "--from ducklake:sqlite:" in err and "give a DuckDB file" in err
    code, _, err = run(
        capsys, "store", "migrate", "--from", str(tmp_path / "none.duckdb"), "--to", sqlite_lake
    )
    assert code == 2
    assert "none.duckdb is not a DuckDB database" in err
