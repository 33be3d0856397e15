"""A worker process that sends its spans to the ingest service as OTLP/JSON.

The OpenTelemetry Python SDK has no OTLP/JSON exporter, so this one encodes each batch exactly as
the OTLP/HTTP exporter does (`encode_spans`), turns it into OTLP/JSON and gzips it. It sends each
batch twice, as a client does that retries after a lost answer. The spans come from the real
tracing API (`@tool`, `record_usage`, the seed's start/fail calls inside `enrichment_session`),
and `configure()` joins the provider, so the worker's own DuckDB file holds the rows its exporter
writes, for comparison.

Run as `python -m tests.ingest.json_worker INGEST_URL DB_PATH` from the repository root.
"""

from __future__ import annotations

import gzip
import sys
import urllib.request
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import enrichment_logs as el
from tests.ingest.conftest import otlp_json

COPIES = 2


class OtlpJsonExporter(SpanExporter):
    def __init__(self, url: str) -> None:
        self._url = url

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        body = gzip.compress(otlp_json(encode_spans(spans)))
        for _ in range(COPIES):
            request = urllib.request.Request(
                self._url,
                data=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status != 200:
                    return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def main(url: str, db_path: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "json-worker"}))
    provider.add_span_processor(BatchSpanProcessor(OtlpJsonExporter(url)))
    trace.set_tracer_provider(provider)
    handle = el.configure(db_path, console=False, instrument=False)

    @el.tool("exa", "search", cost=lambda result: result["costDollars"]["total"])
    def search(query: str) -> dict[str, object]:
        return {"costDollars": {"total": 0.012}, "results": [query]}

    @el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
    def extract(page: str) -> str:
        el.record_usage(
            model="gpt-4o-mini-2024-07-18",
            input_tokens=1200,
            cached_input_tokens=200,
            output_tokens=300,
        )
        return page

    with el.enrichment_session(lead_id="lead-7", company_id="acme"):
        extract(str(search("acme news")))
        log_id = el.start_enrichment_log(
            provider="firecrawl", operation="scrape", request_data={"url": "https://acme.test"}
        )
        el.fail_enrichment_log(log_id, "429 Too Many Requests", retry_count=2)
    handle.flush()
    handle.shutdown()
    provider.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
