"""The ingest service: one process owns the DuckDB file; every worker sends it OTLP.

DuckDB has one writer per file. When many workers, or many machines, log to one place, each
sends its spans by OTLP to the OpenTelemetry Collector, which forwards traces to
`enrichment-logs ingest`: an OTLP/HTTP traces receiver that rebuilds each tool-call span and
writes it through the same exporter (`span_to_row`, spool, `INSERT OR IGNORE`) a single process
uses, so a row is the same whichever way it came. One job per module, in the order a request
travels:

- `server`: `POST /v1/traces` over HTTP/1.1, body limits, stopping cleanly.
- `wire`: content types, gzip, the response and error messages the OTLP specification defines.
- `otlp_json`: OTLP/JSON's hex ids on top of protobuf's JSON parser.
- `otlp_spans`: OTLP spans rebuilt as the SDK's `ReadableSpan`; malformed ones rejected.
- `writer`: durable writes through the exporter, with 429/503 backpressure.
- `service`: `IngestService`, which starts and stops them together.
"""

from enrichment_logs.ingest.service import IngestLimits, IngestService
from enrichment_logs.ingest.writer import WriterLimits

__all__ = ["IngestLimits", "IngestService", "WriterLimits"]
