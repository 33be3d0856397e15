"""Under `opentelemetry-instrument`, `OTEL_TRACES_EXPORTER=duckdb` writes rows with no set-up."""

from __future__ import annotations

from tests.conftest import read_rows, run_under_opentelemetry_instrument

PIPELINE = """
import enrichment_logs as el

@el.tool("exa", "search", cost=lambda response: response["costDollars"]["total"])
def search(query):
    return {"results": [], "costDollars": {"total": 0.007}}

with el.enrichment_session(lead_id="lead-1", company_id="acme"):
    search("acme")
    search("acme pricing")
"""


def test_the_duckdb_exporter_works_as_an_opentelemetry_entry_point(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    db_path = tmp_path / "instrumented.duckdb"
    run_under_opentelemetry_instrument(script, db_path, OTEL_SERVICE_NAME="instrumented-pipeline")
    rows = read_rows(db_path)
    assert len(rows) == 2
    assert {(row["provider"], row["lead_id"], row["company_id"]) for row in rows} == {
        ("exa", "lead-1", "acme")
    }
    assert {row["service_name"] for row in rows} == {"instrumented-pipeline"}
