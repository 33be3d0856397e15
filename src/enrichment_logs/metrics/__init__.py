"""OpenTelemetry metrics of the tool calls: cost, calls, retries, latency, tokens, exporter health.

Usage: `configure(metrics_port=9464)` (or `ENRICHMENT_LOGS_METRICS_PORT`) serves them for
Prometheus on 127.0.0.1 (`metrics_host` / `ENRICHMENT_LOGS_METRICS_HOST` to change); with
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) set they also go out by
OTLP/HTTP, to the Collector. A process that already has an SDK `MeterProvider` keeps it: our
instruments report through it.

Instruments (Prometheus names after the arrow; the README's "Metrics" section has the details):
- `gen_ai.client.operation.duration` (histogram, `s`) -> `gen_ai_client_operation_duration_seconds`
- `gen_ai.client.token.usage` (histogram, `{token}`) -> `gen_ai_client_token_usage`
- `enrichment_logs.cost` (counter, `USD`) -> `enrichment_logs_cost_USD_total`
- `enrichment_logs.calls` (counter, `{call}`) -> `enrichment_logs_calls_total`
- `enrichment_logs.retries` (counter, `{retry}`) -> `enrichment_logs_retries_total`
- `enrichment_logs.exporter.rows_written`, `.rows_dropped`, `.store_failures` (counters) and
  `.rows_spooled` (up-down counter): the exporter's health

The GenAI histograms carry the conventions' attributes; our own counters are labelled provider,
operation, model and status. Lead, company and session ids are never labels: they are in the
rows and spans.
"""

from enrichment_logs.metrics.exporter_health import unwatch, watch
from enrichment_logs.metrics.provider import MetricsOutput, meter_provider
from enrichment_logs.metrics.recorder import RowMetrics

__all__ = ["MetricsOutput", "RowMetrics", "meter_provider", "unwatch", "watch"]
