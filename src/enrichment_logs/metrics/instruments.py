"""The metric instruments: names, units, descriptions and bucket boundaries, defined once.

They are created on the global meter `enrichment_logs` at import, which is a no-op until a
MeterProvider is set (by `configure()` or by the application), so creating them costs nothing
when metrics are off. The GenAI histograms follow the semantic conventions exactly: their names,
units and the explicit bucket boundaries the conventions ask for, given as the instrument's
advisory so they hold on a provider we join as well as on one we create. Everything else lives
in our own `enrichment_logs.*` namespace, with low-cardinality labels only.
"""

from __future__ import annotations

from typing import Final

from opentelemetry import metrics
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

METER_NAME: Final = "enrichment_logs"
meter = metrics.get_meter(METER_NAME)

# --- labels of our own metrics: never a lead, company or session id ------------------------
PROVIDER: Final = "provider"
OPERATION: Final = "operation"
MODEL: Final = "model"
STATUS: Final = "status"
LABELS: Final = (PROVIDER, OPERATION, MODEL, STATUS)

# --- GenAI semantic conventions -------------------------------------------------------------
TOKEN_USAGE_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
"""The boundaries the conventions give for `gen_ai.client.token.usage`."""
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
"""The conventions' boundaries for `gen_ai.client.operation.duration`, in seconds."""

token_usage = meter.create_histogram(
    gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE,
    unit="{token}",
    description="Number of input and output tokens used.",
    explicit_bucket_boundaries_advisory=TOKEN_USAGE_BUCKETS,
)
operation_duration = meter.create_histogram(
    gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION,
    unit="s",
    description="GenAI operation duration.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)

# --- enrichment_logs.* ----------------------------------------------------------------------
cost = meter.create_counter(
    "enrichment_logs.cost",
    unit="USD",
    description="Known cost of tool calls in US dollars, as written to the cost column.",
)
calls = meter.create_counter(
    "enrichment_logs.calls",
    unit="{call}",
    description="Tool calls (rows), by status: success, error, cached or rejected.",
)
retries = meter.create_counter(
    "enrichment_logs.retries",
    unit="{retry}",
    description="Retries made before a tool call ended (the rows' retry_count).",
)
