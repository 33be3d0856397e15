"""Where metrics go: the process's `MeterProvider`, joined or created by `configure()`.

Like the tracer provider: when the application or `opentelemetry-instrument` has set an SDK
`MeterProvider`, our instruments report through it (and its readers decide where they go).
Otherwise `configure()` creates one, only when something would read it: a Prometheus endpoint
(`metrics_port`) or OTLP export (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, unless `OTEL_METRICS_EXPORTER=none`). With neither,
there is no provider and recording costs nothing. The provider stays for the life of the process
(OpenTelemetry allows one global provider), and so does its Prometheus endpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from prometheus_client import start_http_server

from enrichment_logs.config import ConfigurationError, Settings

_log = logging.getLogger("enrichment_logs")
_serving: tuple[str, int] | None = None
"""The Prometheus endpoint this process serves, once `configure()` started it."""


@dataclass(frozen=True)
class MetricsOutput:
    """The provider our instruments report to, and the readers of it we may flush."""

    provider: MeterProvider
    pushing: tuple[MetricReader, ...] = ()
    """Readers we created that export on a schedule (OTLP). Only these are flushed: flushing a
    pull reader (Prometheus) queues a snapshot that the next scrape would serve twice."""

    def flush(self, timeout_millis: float = 10_000) -> None:
        """Export now what the rows written so far recorded."""
        for reader in self.pushing:
            reader.force_flush(timeout_millis)


def meter_provider(settings: Settings, *, otlp: bool) -> MetricsOutput | None:
    """The process's SDK provider, joined or created, or None when metrics go nowhere.

    Raises `ConfigurationError` when the Prometheus endpoint cannot listen (port taken).
    """
    current = metrics.get_meter_provider()
    if isinstance(current, MeterProvider):
        _warn_if_not_served(settings)
        return MetricsOutput(current)
    readers: list[MetricReader] = []
    if settings.metrics_port is not None:
        readers.append(_prometheus_endpoint(settings.metrics_host, settings.metrics_port))
    pushing = (PeriodicExportingMetricReader(OTLPMetricExporter()),) if otlp else ()
    if not readers and not pushing:
        return None
    provider = MeterProvider(
        metric_readers=[*readers, *pushing],
        resource=Resource.create({SERVICE_NAME: settings.service_name}),
    )
    metrics.set_meter_provider(provider)
    return MetricsOutput(provider, pushing)


def _prometheus_endpoint(host: str, port: int) -> PrometheusMetricReader:
    """Serve `/metrics` on host:port (prometheus_client's server, a daemon thread)."""
    global _serving
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        raise ConfigurationError(
            f"metrics_port={port}: cannot serve Prometheus metrics on {host}:{port}: {error}"
        ) from None
    _serving = (host, port)
    return PrometheusMetricReader()


def _warn_if_not_served(settings: Settings) -> None:
    if settings.metrics_port is None or _serving == (settings.metrics_host, settings.metrics_port):
        return
    _log.warning(
        "metrics_port=%d is not served: the process already has a MeterProvider, which decides "
        "where metrics go (add a PrometheusMetricReader to it, or under opentelemetry-instrument "
        "set OTEL_METRICS_EXPORTER=prometheus)",
        settings.metrics_port,
    )
