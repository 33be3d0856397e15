"""`configure()`: wire enrichment-logs into OpenTelemetry, once per process.

It joins the process's SDK `TracerProvider` when one exists (set by the application or by
`opentelemetry-instrument`) and creates one otherwise, then adds its span processors: one that
stamps lead, company and session on every span as it starts, a spooling batch processor that
prices tool-call spans and writes them to DuckDB off the pipeline's thread, and, on a provider it
created, an OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The handle it returns
flushes and shuts down what it added.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from os import PathLike
from pathlib import Path
from types import FrameType

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from enrichment_logs import content
from enrichment_logs.config import Settings
from enrichment_logs.console import ConsoleCostLines, ensure_visible
from enrichment_logs.export.batch_processor import SpoolingBatchProcessor
from enrichment_logs.export.exporter import DuckDBSpanExporter, ExporterStats
from enrichment_logs.export.store_url import StoreUrl
from enrichment_logs.guards.gate import Gate, build_gate
from enrichment_logs.guards.gate import install as install_gate
from enrichment_logs.guards.gate import uninstall as uninstall_gate
from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor
from enrichment_logs.instrumentation.openai import OpenAIInstrumentor
from enrichment_logs.instrumentation.routes import ProviderRoutes, set_routes
from enrichment_logs.metrics import MetricsOutput, RowMetrics, meter_provider, unwatch, watch
from enrichment_logs.otlp import otlp_configured
from enrichment_logs.pricing.engine import CostEngine
from enrichment_logs.pricing.usage import Pricer
from enrichment_logs.tracing.attribution import ensure_attribution
from enrichment_logs.tracing.manual import end_open_logs

_log = logging.getLogger("enrichment_logs")
_lock = threading.Lock()
_active: EnrichmentLogs | None = None
_default_pricer: Pricer | None = None


class EnrichmentLogs:
    """The handle `configure()` returns: flush or shut down what it set up."""

    def __init__(
        self,
        settings: Settings,
        pricer: Pricer,
        exporter: DuckDBSpanExporter,
        processors: Sequence[SpanProcessor],
        console_lines: ConsoleCostLines,
        instrumented: Sequence[BaseInstrumentor],
        meters: MetricsOutput | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.settings = settings
        self.pricer = pricer
        self._exporter = exporter
        self._processors = processors
        self._console_lines = console_lines
        self._instrumented = instrumented
        self._meters = meters
        self._gate = gate

    @property
    def db_path(self) -> Path:
        return self.settings.db_path

    @property
    def store(self) -> StoreUrl:
        """Where rows are written: `duckdb:<db_path>`, or the DuckLake `store` named."""
        return self.settings.resolved_store

    @property
    def stats(self) -> ExporterStats:
        """Rows written, waiting in the spool and dropped, and store failures so far."""
        return self._exporter.stats

    def flush(self, timeout_seconds: float = 30.0) -> bool:
        """Write every tool call ended so far; True when all of them are in the database."""
        timeout_millis = int(timeout_seconds * 1000)
        flushed = all([processor.force_flush(timeout_millis) for processor in self._processors])
        if self._meters is not None:  # export the metrics of the rows just written
            self._meters.flush(timeout_millis)
        return flushed

    def shutdown(self) -> None:
        """End calls still open, flush, and close the database. `configure()` may run again."""
        global _active
        with _lock:
            if _active is not self:
                return
            _active = None
        atexit.unregister(self.shutdown)
        if _sigterm_handler_installed_by(self):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        end_open_logs()
        # The provider stays: OpenTelemetry allows one global provider per process, and the
        # next configure() joins it. Our processors stop; the database is closed.
        for processor in self._processors:
            processor.shutdown()
        if self._meters is not None:
            self._meters.flush()
        unwatch(self._exporter)
        uninstall_gate(self._gate)
        self._console_lines.summarize()
        for instrumentor in self._instrumented:
            instrumentor.uninstrument()
        content.set_policy(content.ContentPolicy())
        set_routes(ProviderRoutes())


def configure(
    db_path: str | PathLike[str] | None = None,
    *,
    spool_dir: str | PathLike[str] | None = None,
    console: bool | str | None = None,
    capture_content: bool | None = None,
    content_max_bytes: int | None = None,
    service_name: str | None = None,
    price_overrides: str | PathLike[str] | None = None,
    firecrawl_usd_per_credit: Decimal | float | str | None = None,
    max_queue_size: int | None = None,
    provider_routes: Mapping[str, str] | str | None = None,
    instrument: bool | None = None,
    metrics_port: int | None = None,
    metrics_host: str | None = None,
    publish_dir: str | PathLike[str] | None = None,
    publish_interval_seconds: float | None = None,
    budgets: Mapping[str, object] | str | None = None,
    budget_warnings: Sequence[float | str] | str | None = None,
    budget_enforce: bool | None = None,
    breaker: Mapping[str, object] | str | bool | None = None,
    retry: Mapping[str, object] | str | bool | None = None,
    cache: Mapping[str, object] | str | None = None,
    cache_path: str | PathLike[str] | None = None,
    store: str | None = None,
) -> EnrichmentLogs:
    """Log every tool call of this process to the DuckDB file at `db_path`, or to the store
    URL `store` names (a DuckLake that many processes share; see `export/store_url.py`).
    Idempotent.

    Each option left as None is read from its `ENRICHMENT_LOGS_*` environment variable (see
    `Settings`), else defaults. A bad value, an unreadable price file or a file at `db_path` that
    is not an enrichment-logs database raises here, before the pipeline starts; a database that
    another process holds is not an error (rows wait in the spool until it is released).
    """
    global _active
    settings = Settings.load(
        {
            "db_path": db_path,
            "spool_dir": spool_dir,
            "console": console,
            "capture_content": capture_content,
            "content_max_bytes": content_max_bytes,
            "service_name": service_name,
            "price_overrides": price_overrides,
            "firecrawl_usd_per_credit": firecrawl_usd_per_credit,
            "max_queue_size": max_queue_size,
            "provider_routes": provider_routes,
            "instrument": instrument,
            "metrics_port": metrics_port,
            "metrics_host": metrics_host,
            "publish_dir": publish_dir,
            "publish_interval_seconds": publish_interval_seconds,
            "budgets": budgets,
            "budget_warnings": budget_warnings,
            "budget_enforce": budget_enforce,
            "breaker": breaker,
            "retry": retry,
            "cache": cache,
            "cache_path": cache_path,
            "store": store,
        }
    )
    with _lock:
        if _active is not None:
            if _active.settings != settings:
                _log.warning(
                    "configure() was already called with other settings; keeping the first "
                    "(call shutdown() on its handle to configure again)"
                )
            return _active
        pricer = CostEngine(
            overrides_path=settings.price_overrides,
            firecrawl_usd_per_credit=settings.firecrawl_usd_per_credit,
        )
        meters = meter_provider(settings, otlp=otlp_configured("metrics"))
        row_metrics = [RowMetrics()] if meters is not None else []
        console_lines = ConsoleCostLines(settings.console)
        if settings.console != "off":
            ensure_visible()
        exporter = DuckDBSpanExporter(
            store=settings.resolved_store,
            spool_dir=settings.resolved_spool_dir,
            pricer=pricer,
            row_listeners=[console_lines, *row_metrics],
            publish_dir=settings.resolved_publish_dir,
            publish_interval_seconds=settings.publish_interval_seconds,
        )
        exporter.open_store()
        if meters is not None:
            watch(exporter)
        processors: list[SpanProcessor] = [
            SpoolingBatchProcessor(exporter, max_queue_size=settings.max_queue_size)
        ]
        provider, created = _tracer_provider(settings)
        if created and otlp_configured("traces"):
            processors.append(BatchSpanProcessor(OTLPSpanExporter()))
        ensure_attribution(provider)
        for processor in processors:
            provider.add_span_processor(processor)
        content.set_policy(
            content.ContentPolicy(settings.capture_content, settings.content_max_bytes)
        )
        set_routes(ProviderRoutes(settings.provider_routes))
        instrumented = _instrument(settings)
        gate = build_gate(settings, pricer, exporter)
        install_gate(gate)
        _active = EnrichmentLogs(
            settings, pricer, exporter, processors, console_lines, instrumented, meters, gate
        )
        _flush_on_exit(_active)
        return _active


def _instrument(settings: Settings) -> list[BaseInstrumentor]:
    """Turn on context propagation into threads and, unless switched off, the client
    instrumentations; return those this call turned on (the ones to undo at shutdown)."""
    instrumentors: list[BaseInstrumentor] = [ThreadingInstrumentor()]
    if settings.instrument:
        instrumentors += [OpenAIInstrumentor(), HttpProvidersInstrumentor()]
    turned_on = []
    for instrumentor in instrumentors:
        if instrumentor.is_instrumented_by_opentelemetry:
            continue  # by opentelemetry-instrument or the application: theirs to undo
        instrumentor.instrument()
        if instrumentor.is_instrumented_by_opentelemetry:
            turned_on.append(instrumentor)
    return turned_on


def active_pricer() -> Pricer:
    """The configured cost engine, or a default one so sessions total even before configure()."""
    global _default_pricer
    if _active is not None:
        return _active.pricer
    if _default_pricer is None:
        _default_pricer = CostEngine()
    return _default_pricer


def _tracer_provider(settings: Settings) -> tuple[TracerProvider, bool]:
    """The process's SDK provider if it has one, else a new global one (and True)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current, False
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    trace.set_tracer_provider(provider)
    return provider, True


def _flush_on_exit(handle: EnrichmentLogs) -> None:
    """Flush at interpreter exit and on SIGTERM, which would otherwise skip `atexit`.

    Registered after the provider, so it runs before the provider's own exit hook and open
    manual logs are still written. SIGTERM is taken over only where nobody else handles it; after
    flushing, the default action runs, so the process still terminates with SIGTERM's status.
    """
    atexit.register(handle.shutdown)
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def flush_then_terminate(signum: int, frame: FrameType | None) -> None:
        handle.shutdown()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    flush_then_terminate.handle = handle  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, flush_then_terminate)


def _sigterm_handler_installed_by(handle: EnrichmentLogs) -> bool:
    if threading.current_thread() is not threading.main_thread():
        return False
    return getattr(signal.getsignal(signal.SIGTERM), "handle", None) is handle
