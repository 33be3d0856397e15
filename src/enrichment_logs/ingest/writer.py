"""`SpanWriter`: received spans into the `DuckDBSpanExporter`, with admission and backpressure.

The exporter already gives what an OTLP receiver must promise: `export` returns only after the
batch is an fsynced spool segment, so answering 200 after it never acknowledges a batch that a
crash could lose; rows reach DuckDB from the spool now or, while another process holds the file,
later. What the writer adds is the refusal OTLP clients understand:

- a request beyond `max_concurrent_requests` is refused at once as *busy* (HTTP 429), so a burst
  queues in the Collector's sending queue rather than in this process's memory;
- while the spool holds `max_spool_rows` rows or more (the database is held by another process,
  or cannot keep up), new batches are refused as *unavailable* (HTTP 503) until it drains;
- both come with `Retry-After`, and the Collector retries instead of dropping.

Exports run one at a time: the exporter serialises its writes anyway, and one at a time lets the
writer tell which rows of *this* request the mapping or the table refused. A background thread
flushes the exporter when no request comes to do it: while rows wait in the spool (after the
database was released, say), and once the service has gone quiet after writing, so the published
lake catches up with the last rows (the exporter throttles publishing while batches come).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from enrichment_logs.export.exporter import DuckDBSpanExporter

_logger = logging.getLogger(__name__)

DRAIN_INTERVAL_SECONDS: Final = 1.0
QUIET_SECONDS: Final = 5.0
"""After this long without a batch, the exporter is flushed (publishing what is pending)."""
_FLUSH_TIMEOUT_MILLIS: Final = 30_000


class Refusal(enum.Enum):
    """Why a batch was not taken; both are temporary, so the client retries later."""

    BUSY = "too many requests at once"
    UNAVAILABLE = "the store is not keeping up: rows wait in the spool"
    STOPPING = "the ingest service is stopping"


class BatchRefusedError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class WriterLimits:
    max_spool_rows: int = 100_000
    """Rows waiting in the spool at which new batches are refused (503)."""
    max_concurrent_requests: int = 8
    """Requests being read or written at once; one more is refused (429)."""


class SpanWriter:
    """Writes batches of received spans durably; see the module doc."""

    def __init__(self, exporter: DuckDBSpanExporter, limits: WriterLimits) -> None:
        self._exporter = exporter
        self._limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_concurrent_requests)
        self._write_lock = threading.Lock()
        self._closed = threading.Event()
        self._last_write = 0.0
        self._unflushed = True  # rows a previous run left in the spool
        self._drainer = threading.Thread(
            target=self._drain_while_open, name="enrichment-logs-ingest-drain", daemon=True
        )
        self._drainer.start()

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Hold one of the request slots, or raise `BatchRefusedError` (busy) at once."""
        if not self._slots.acquire(blocking=False):
            raise BatchRefusedError(Refusal.BUSY)
        try:
            yield
        finally:
            self._slots.release()

    def check_backlog(self) -> None:
        """Raise `BatchRefusedError` (unavailable) while the spool is over its bound."""
        if self._exporter.stats.rows_pending_in_spool >= self._limits.max_spool_rows:
            raise BatchRefusedError(Refusal.UNAVAILABLE)

    def write(self, spans: Sequence[ReadableSpan]) -> int:
        """Make `spans` durable; returns how many of them were refused as rows (bad data).

        Raises `BatchRefusedError` when the batch was not stored and should be sent again.
        """
        if not spans:  # sessions and HTTP spans only: nothing becomes a row
            return 0
        with self._write_lock:
            self.check_backlog()
            dropped_before = self._exporter.stats.rows_dropped
            result = self._exporter.export(spans)
            refused = self._exporter.stats.rows_dropped - dropped_before
            self._last_write = time.monotonic()
            self._unflushed = True
        if result is not SpanExportResult.SUCCESS:
            raise BatchRefusedError(Refusal.UNAVAILABLE)
        return min(refused, len(spans))

    def close(self) -> None:
        """Stop draining, write what the spool holds if the database allows, release the file."""
        self._closed.set()
        self._drainer.join()
        with self._write_lock:
            self._exporter.shutdown()

    def _drain_while_open(self) -> None:
        while not self._closed.wait(DRAIN_INTERVAL_SECONDS):
            with self._write_lock:
                if self._closed.is_set():
                    return
                quiet = time.monotonic() - self._last_write >= QUIET_SECONDS
                if (self._unflushed and quiet) or self._exporter.stats.rows_pending_in_spool:
                    self._unflushed = False
                    self._exporter.force_flush(_FLUSH_TIMEOUT_MILLIS)
