"""Whether a signal also goes out by OTLP, as the standard OpenTelemetry variables ask.

`configure()` and the ingest service read the same variables, so a pipeline and the service that
writes its rows agree on where their spans and metrics go.
"""

from __future__ import annotations

import os
from typing import Literal


def otlp_configured(signal: Literal["traces", "metrics"]) -> bool:
    """Spans (`traces`) or `metrics` also go out by OTLP (to the Collector) when
    `OTEL_EXPORTER_OTLP_ENDPOINT` or the signal's own endpoint variable is set, unless
    `OTEL_<SIGNAL>_EXPORTER=none`.

    A provider we join (the application's, or `opentelemetry-instrument`'s) has its own exporters.
    """
    if os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "").strip().lower() == "none":
        return False
    return any(
        os.environ.get(name)
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    )
