"""configure() alone logs the official SDKs' calls: no other set-up in the pipeline."""

from __future__ import annotations

import openai
from exa_py import Exa

from enrichment_logs.emulator import ProviderEmulator


def test_configure_instruments_the_clients_and_shutdown_undoes_it(
    make_logs, emulator: ProviderEmulator, emulator_routes
):
    logs = make_logs(provider_routes=emulator_routes, instrument=True)
    client = openai.OpenAI(api_key="k", base_url=emulator.openai_base_url, max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Acme?"}]
    )
    Exa("k", base_url=emulator.exa_base_url).search("Acme news", num_results=3)
    rows = logs.rows()
    assert sorted((row["provider"], row["operation"]) for row in rows) == [
        ("exa", "search"),
        ("openai", "chat.completions.create"),
    ]
    assert all(row["cost"] is not None for row in rows)

    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "after shutdown"}]
    )
    assert emulator.count("openai") == 2
