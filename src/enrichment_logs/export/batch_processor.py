"""`SpoolingBatchProcessor`: hand tool-call spans to the exporter without losing them in a burst.

The SDK's `BatchSpanProcessor` queues every span and drops what exceeds 2048 with one warning
(in a burst of 200 000 tool calls we measured 95 % lost). This one queues only tool-call spans,
holds up to 100 000 of them, exports batches from a daemon thread (every 50 ms, or sooner once
half a batch waits) and, when even that is full, drops and counts instead of blocking the
pipeline: `dropped`, the exporter's `stats`, and one warning per overflow episode.

The schedule bounds what a SIGKILL can lose: an ended call is in memory only until its batch is
in the spool. Every 50 ms costs little since an export only maps, prices and spools (the DuckDB
insert is the exporter's writer thread's, once a second); at 0.2 s, when every export was also
an insert of fixed cost, 50 ms had made the pipeline 6-9 % slower instead of 2-5 %. Measured by
the benchmarks `kill_window` and `pipeline_overhead` (figures in the README).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from enrichment_logs.export.exporter import DuckDBSpanExporter, call_in_forked_child
from enrichment_logs.export.mapping import is_tool_call

_logger = logging.getLogger(__name__)


@dataclass
class _FlushRequest:
    """Queued behind the spans it must wait for; the worker answers it in order."""

    deadline: float
    done: threading.Event = field(default_factory=threading.Event)
    flushed: bool = False


class SpoolingBatchProcessor(SpanProcessor):
    """Exports tool-call spans in batches from a worker thread; never blocks `on_end`."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int = 100_000,
        max_batch_size: int = 2048,
        schedule_delay_millis: float = 50,
    ) -> None:
        if min(max_queue_size, max_batch_size) < 1 or schedule_delay_millis <= 0:
            raise ValueError("queue size, batch size and schedule delay must be positive")
        self._exporter = exporter
        self._max_queue_size = max_queue_size
        self._max_batch_size = max_batch_size
        self._wake_at = max(1, min(max_batch_size, max_queue_size) // 2)
        self._delay = schedule_delay_millis / 1000
        self._dropped = 0
        self._reported_dropped = 0
        self._overflowing = False
        self._shut_down = False
        self._start_worker()
        call_in_forked_child(self._start_worker)

    @property
    def dropped(self) -> int:
        """Tool-call spans lost here: the queue was full, or a (foreign) exporter raised."""
        return self._dropped

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        """Runs on the pipeline's thread: a key lookup and an append, nothing that can block."""
        if self._shut_down or not is_tool_call(span.attributes):
            return
        if len(self._queue) >= self._max_queue_size:
            self._overflow()
            return
        self._queue.append(span)
        if len(self._queue) >= self._wake_at:
            self._wake.set()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """True when every span queued before this call was exported and the exporter flushed."""
        if self._shut_down:
            return not self._queue
        request = _FlushRequest(deadline=time.monotonic() + timeout_millis / 1000)
        self._queue.append(request)
        self._wake.set()
        return request.done.wait(timeout_millis / 1000) and request.flushed

    def shutdown(self) -> None:
        """Export everything queued, then shut the exporter down."""
        if self._shut_down:
            return
        self._shut_down = True
        self._wake.set()
        self._worker.join()
        self._exporter.shutdown()

    def _start_worker(self) -> None:
        """(Re)create the queue and its thread; in a forked child the parent's are gone."""
        self._queue: deque[ReadableSpan | _FlushRequest] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._worker = threading.Thread(
            target=self._work, name="enrichment-logs-export", daemon=True
        )
        self._worker.start()

    def _overflow(self) -> None:
        with self._lock:
            self._dropped += 1
            starting, self._overflowing = not self._overflowing, True
        if starting:
            _logger.warning(
                "the export queue is full (%d tool-call spans): spans are dropped and counted "
                "until it drains; raise max_queue_size if this recurs",
                self._max_queue_size,
            )

    def _work(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            try:
                self._export_queued()
                self._report_dropped()
            except Exception:  # the worker must outlive any one bad batch
                _logger.exception("exporting a batch of tool-call spans failed")
            if self._shut_down and not self._queue:
                return

    def _export_queued(self) -> None:
        batch: list[ReadableSpan] = []
        while self._queue:
            item = self._queue.popleft()
            if isinstance(item, _FlushRequest):
                self._export(batch)
                batch = []
                self._flush(item)
                continue
            batch.append(item)
            if len(batch) >= self._max_batch_size:
                self._export(batch)
                batch = []
        self._export(batch)

    def _export(self, batch: list[ReadableSpan]) -> None:
        if not batch:
            return
        try:
            self._exporter.export(batch)
        except Exception:  # only a foreign exporter can raise; ours spools or counts
            _logger.exception("the exporter raised; %d tool-call spans are lost", len(batch))
            with self._lock:
                self._dropped += len(batch)

    def _flush(self, request: _FlushRequest) -> None:
        try:
            self._report_dropped()
            remaining = max(0.0, request.deadline - time.monotonic())
            request.flushed = self._exporter.force_flush(int(remaining * 1000))
        finally:
            request.done.set()

    def _report_dropped(self) -> None:
        """Pass new drops to the exporter's stats, from this thread, never from `on_end`."""
        with self._lock:
            new, self._reported_dropped = self._dropped - self._reported_dropped, self._dropped
            ended = self._overflowing and len(self._queue) < self._max_queue_size // 2
            self._overflowing = self._overflowing and not ended
        if new and isinstance(self._exporter, DuckDBSpanExporter):
            self._exporter.count_dropped(new)
        if ended:
            _logger.warning(
                "the export queue has room again; %d spans dropped in all", self._dropped
            )
