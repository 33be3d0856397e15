"""The ingest service serves its exporter's health for Prometheus, and only that: the workers
report their calls themselves."""

from __future__ import annotations

import socket
import time
import urllib.request

from tests.ingest.test_durability import batch_of_calls

SCRAPE_DEADLINE_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """Sample name (with labels) to value, from the Prometheus text format."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_the_exporters_rows_written_and_spooled_are_served_and_no_call_metric_is(
    spans, start_ingest
):
    port = free_port()
    ingest = start_ingest(ENRICHMENT_LOGS_METRICS_PORT=str(port))
    body, ids = batch_of_calls(spans, "one", "two", "three")

    assert ingest.post(body).status == 200
    deadline = time.monotonic() + SCRAPE_DEADLINE_SECONDS
    written: dict[str, float] = {}
    while time.monotonic() < deadline:
        samples = scrape(port)
        written = {name: value for name, value in samples.items() if "rows_written" in name}
        if sum(written.values()) == len(ids):
            break
        time.sleep(0.2)

    assert list(written.values()) == [len(ids)]
    assert any(name.startswith("enrichment_logs_exporter_rows_spooled") for name in samples)
    assert not [name for name in samples if name.startswith("enrichment_logs_calls")]
    assert len(ingest.rows()) == len(ids)
