"""A plain script with no enrichment code, run under `opentelemetry-instrument`, is logged.

The official `opentelemetry-instrumentation-openai-v2` is installed in the test environment, so
`opentelemetry-instrument` loads it too: the OpenAI call must still be one row, not two.
"""

from __future__ import annotations

from enrichment_logs.emulator import ProviderEmulator
from tests.conftest import read_rows, run_under_opentelemetry_instrument

PLAIN_PIPELINE = """
import sys
import openai
from exa_py import Exa

openai_url, exa_url = sys.argv[1], sys.argv[2]
client = openai.OpenAI(api_key="sk-test", base_url=openai_url, max_retries=0)
client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "What does Acme sell?"}]
)
Exa("exa-test", base_url=exa_url).search("Acme news", num_results=5)
"""


def test_opentelemetry_instrument_logs_openai_and_exa_calls_of_a_plain_script(
    tmp_path, emulator: ProviderEmulator, emulator_routes
):
    script = tmp_path / "plain_pipeline.py"
    script.write_text(PLAIN_PIPELINE)
    db_path = tmp_path / "instrumented.duckdb"
    routes = ",".join(f"{url}={provider}" for url, provider in emulator_routes.items())
    run_under_opentelemetry_instrument(
        script,
        db_path,
        emulator.openai_base_url,
        emulator.exa_base_url,
        ENRICHMENT_LOGS_PROVIDER_ROUTES=routes,
    )
    rows = read_rows(db_path)
    assert sorted((row["provider"], row["operation"], row["status"]) for row in rows) == [
        ("exa", "search", "success"),
        ("openai", "chat.completions.create", "success"),
    ]
    assert all(row["cost"] is not None for row in rows)
