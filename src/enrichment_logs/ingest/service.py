"""`IngestService`: the exporter, the writer and the HTTP server, started and stopped together.

The service reports its exporter's health (`enrichment_logs.exporter.*`: rows written, waiting in
the spool, dropped; store failures) like `configure()` does: on `ENRICHMENT_LOGS_METRICS_PORT` for
Prometheus and/or by OTLP. In a fleet the workers export spans, not rows, so the service's exporter
is the one whose health the dashboards show. It records no per-call metrics: the workers do, and
counting their calls again here would double every figure.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

from enrichment_logs.config import Settings
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.store_url import StoreUrl
from enrichment_logs.ingest.server import OtlpHttpServer
from enrichment_logs.ingest.wire import DEFAULT_MAX_BODY_BYTES
from enrichment_logs.ingest.writer import SpanWriter, WriterLimits
from enrichment_logs.metrics import MetricsOutput, meter_provider, unwatch, watch
from enrichment_logs.otlp import otlp_configured
from enrichment_logs.pricing.engine import CostEngine

STOP_POLL_SECONDS: Final = 0.2


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Largest request body, compressed or not (413 beyond)."""
    writer: WriterLimits = field(default_factory=WriterLimits)


class IngestService:
    """Receives OTLP/HTTP traces on `host:port` and writes tool calls to the DuckDB file.

    The settings that shape rows come from the environment as for `configure()`
    (`ENRICHMENT_LOGS_SPOOL_DIR`, `ENRICHMENT_LOGS_PRICE_OVERRIDES`,
    `ENRICHMENT_LOGS_FIRECRAWL_USD_PER_CREDIT`), so a row costs the same whichever way it came.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        store: str | StoreUrl | None = None,
        host: str = "127.0.0.1",
        port: int = 4318,
        limits: IngestLimits | None = None,
    ) -> None:
        self.settings = Settings.load({"db_path": db_path, "store": store})
        self._address = (host, port)
        self._limits = limits or IngestLimits()
        self._server: OtlpHttpServer | None = None
        self._writer: SpanWriter | None = None
        self._thread: threading.Thread | None = None
        self._meters: MetricsOutput | None = None
        self._exporter: DuckDBSpanExporter | None = None

    @property
    def db_path(self) -> Path:
        return self.settings.db_path

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the ingest service is not running; start() it first")
        return self._server.url

    def start(self) -> IngestService:
        """Open the database (a file that is not one raises `StoreError`; a file another process
        holds does not: rows wait in the spool), then listen (`OSError` if the port is taken)."""
        if self._server is not None:
            raise RuntimeError("the ingest service is already running")
        exporter = DuckDBSpanExporter(
            store=self.settings.resolved_store,
            spool_dir=self.settings.resolved_spool_dir,
            pricer=CostEngine(
                overrides_path=self.settings.price_overrides,
                firecrawl_usd_per_credit=self.settings.firecrawl_usd_per_credit,
            ),
        )
        exporter.open_store()
        writer = SpanWriter(exporter, self._limits.writer)
        try:
            meters = meter_provider(self.settings, otlp=otlp_configured("metrics"))
            server = OtlpHttpServer(self._address, writer, self._limits.max_body_bytes)
        except BaseException:
            writer.close()
            raise
        if meters is not None:
            watch(exporter)
        self._meters, self._exporter = meters, exporter
        self._writer, self._server = writer, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="enrichment-logs-ingest",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, grace_seconds: float = 30.0) -> None:
        """Answer the requests in flight, stop listening, write the spool and close the file."""
        server, writer, thread = self._server, self._writer, self._thread
        if server is None or writer is None or thread is None:
            return
        self._server = self._writer = self._thread = None
        server.stop(grace_seconds)
        thread.join()
        writer.close()
        if self._meters is not None:
            self._meters.flush()
        if self._exporter is not None:
            unwatch(self._exporter)

    def __enter__(self) -> IngestService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
