"""The exporter's own health as metrics: rows written, waiting in the spool, dropped.

Observable instruments read `DuckDBSpanExporter.stats` when a reader collects (a scrape, an OTLP
export), so nothing is counted twice and nothing runs per call. One exporter is watched at a
time: `configure()` runs once per process, and a handle's `shutdown()` stops the watch, so the
series end with the handle (a new handle's exporter counts from 0, which Prometheus reads as a
counter reset).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation

from enrichment_logs.export.exporter import DuckDBSpanExporter, ExporterStats
from enrichment_logs.metrics.instruments import meter

_watched: weakref.ref[DuckDBSpanExporter] | None = None


def watch(exporter: DuckDBSpanExporter) -> None:
    """Report this exporter's stats from now on."""
    global _watched
    _watched = weakref.ref(exporter)


def unwatch(exporter: DuckDBSpanExporter) -> None:
    """Stop reporting `exporter` (a later handle may already watch its own)."""
    global _watched
    if _watched is not None and _watched() is exporter:
        _watched = None


def _stats() -> ExporterStats | None:
    exporter = _watched() if _watched is not None else None
    return exporter.stats if exporter is not None else None


def _rows_written(options: CallbackOptions) -> Iterable[Observation]:
    stats = _stats()
    return [Observation(stats.rows_written)] if stats else []


def _rows_spooled(options: CallbackOptions) -> Iterable[Observation]:
    stats = _stats()
    return [Observation(stats.rows_pending_in_spool)] if stats else []


def _rows_dropped(options: CallbackOptions) -> Iterable[Observation]:
    stats = _stats()
    return [Observation(stats.rows_dropped)] if stats else []


def _store_failures(options: CallbackOptions) -> Iterable[Observation]:
    stats = _stats()
    return [Observation(stats.store_failures)] if stats else []


meter.create_observable_counter(
    "enrichment_logs.exporter.rows_written",
    [_rows_written],
    unit="{row}",
    description="Rows this process's exporter inserted into DuckDB.",
)
meter.create_observable_up_down_counter(
    "enrichment_logs.exporter.rows_spooled",
    [_rows_spooled],
    unit="{row}",
    description="Rows waiting in the write-ahead spool for the database (e.g. while it is locked).",
)
meter.create_observable_counter(
    "enrichment_logs.exporter.rows_dropped",
    [_rows_dropped],
    unit="{row}",
    description="Rows lost: processor queue full, spool not writable, or refused by the table.",
)
meter.create_observable_counter(
    "enrichment_logs.exporter.store_failures",
    [_store_failures],
    unit="{failure}",
    description="Attempts to open or write the database that failed (locked, I/O error).",
)
