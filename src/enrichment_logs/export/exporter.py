"""`DuckDBSpanExporter`: tool-call spans to `enrichment_logs` rows, through a write-ahead spool.

`export` maps and prices a batch and writes it to the spool, and returns: the rows are durable. The
exporter's writer thread moves pending segments into the store, oldest first, many per statement
(an INSERT costs milliseconds whatever its size), every `INGEST_INTERVAL_SECONDS` or sooner when
rows pile up, and at `force_flush` and `shutdown`; a segment is removed only after its insert
committed. So a batch exported while another process holds the DuckDB file (a second worker, the
DuckDB CLI) waits on disk and lands once it is released; segments left by a crash are written by
the next exporter on the same spool; and because row ids are stable and inserts skip known ids, a
segment replayed twice still yields each row once. Only a spool that cannot be written loses
rows, and those are counted in `stats`.

The store is the one a store URL names (`store`, `ENRICHMENT_LOGS_STORE`; `export.stores`): the
DuckDB file at `db_path` by default, or a DuckLake that many processes write at once, each
claiming the spool segments it writes. After rows are committed to a DuckDB file, and at flush and
shutdown, the writer thread publishes the table into a DuckLake beside it (`export.publish`),
throttled, so readers never need the live file; a DuckLake store's readers attach it itself.

Also the OpenTelemetry entry point `duckdb` (`OTEL_TRACES_EXPORTER=duckdb` under
`opentelemetry-instrument`): constructed with no arguments it reads `ENRICHMENT_LOGS_DB_PATH`
(default `enrichment_logs.duckdb`), `ENRICHMENT_LOGS_STORE` (default `duckdb:<db path>`),
`ENRICHMENT_LOGS_SPOOL_DIR` (default `<db path>.spool`),
`ENRICHMENT_LOGS_PUBLISH_DIR` and `ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from enrichment_logs.config import Settings
from enrichment_logs.export.duckdb_store import (
    SegmentRejectedError,
    StoreError,
    StoreLockedError,
)
from enrichment_logs.export.lake import CatalogUnreachableError
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.export.publish import LakePublisher
from enrichment_logs.export.spool import Spool
from enrichment_logs.export.store_url import DuckDBUrl, StoreUrl
from enrichment_logs.export.stores import Store, open_store
from enrichment_logs.pricing.usage import Pricer

_logger = logging.getLogger(__name__)

GIL_SLICE_SECONDS = 0.0005
"""How long the export thread maps spans before it lets the pipeline's threads run."""
INGEST_INTERVAL_SECONDS = 1.0
"""How often the writer thread moves spooled rows into the store: how fresh readers are."""
WAKE_ROWS = 10_000
"""Spooled rows that wake the writer thread before its interval (a burst)."""
GROUP_SEGMENTS = 256
GROUP_BYTES = 64 * 1024 * 1024
"""Most segments and bytes written in one statement (one transaction of the store)."""

_inherited_stores: list[Store] = []
"""Stores a forked child inherited: never used (the parent owns the file) and never closed,
because closing would checkpoint into the parent's file."""


@dataclass(frozen=True, slots=True)
class ExporterStats:
    """Counters for the metrics work: nothing is dropped or delayed silently."""

    rows_written: int = 0
    """Rows this exporter inserted (replayed rows already in the table are not counted)."""
    rows_pending_in_spool: int = 0
    """Rows on disk waiting for the database, including segments left by other processes."""
    rows_dropped: int = 0
    """Rows lost: spool not writable, processor queue full, or a segment the table refused
    (kept aside as `*.rejected`)."""
    store_failures: int = 0
    """Attempts to open or write the database that failed (locked, corrupt, I/O error)."""


RowListener = Callable[[Sequence[Mapping[str, object]]], None]
"""Called with each batch of priced rows before they are written."""


class DuckDBSpanExporter(SpanExporter):
    """Writes tool-call spans as rows of the store (the DuckDB file at `db_path` unless `store`
    names another); see the module doc."""

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        pricer: Pricer | None = None,
        row_listeners: Sequence[RowListener] = (),
        publish_dir: str | os.PathLike[str] | None = None,
        publish_interval_seconds: float | None = None,
        store: str | StoreUrl | None = None,
    ) -> None:
        settings = Settings.load(
            {
                "db_path": db_path,
                "store": store,
                "spool_dir": spool_dir,
                "publish_dir": publish_dir,
                "publish_interval_seconds": publish_interval_seconds,
            }
        )
        self._row_listeners = tuple(row_listeners)
        self._failed_listeners: set[int] = set()
        self.store_url = settings.resolved_store
        self.db_path = (
            self.store_url.path if isinstance(self.store_url, DuckDBUrl) else settings.db_path
        )
        self.spool = Spool(settings.resolved_spool_dir)
        # A DuckLake serves its readers itself (no lock); only the single file's writer publishes.
        self.publisher = (
            LakePublisher(settings.resolved_publish_dir, settings.publish_interval_seconds)
            if settings.publish_interval_seconds > 0 and isinstance(self.store_url, DuckDBUrl)
            else None
        )
        self._pricer = pricer if pricer is not None else _default_pricer()
        self._lock = threading.Lock()  # the store: draining, publishing, queries, shutdown
        self._spool_lock = threading.Lock()  # what export() touches: pending segments, counts
        self._store: Store | None = None  # opened by the writer thread, off the user's thread
        self._spool_only = False
        self._shut_down = False
        self._pending: dict[Path, int] = {}
        self._pending_rows = 0  # sum of _pending, readable without a lock
        self._writer: threading.Thread | None = None
        self._wake = threading.Event()
        self._written = self._dropped = self._store_failures = 0
        self._failing: dict[str, str] = {}
        call_in_forked_child(self._after_fork_in_child)

    @property
    def stats(self) -> ExporterStats:
        """A snapshot, cheap enough to read from any thread (metrics callbacks)."""
        return ExporterStats(
            rows_written=self._written,
            rows_pending_in_spool=self._pending_rows,
            rows_dropped=self._dropped,
            store_failures=self._store_failures,
        )

    def count_dropped(self, rows: int) -> None:
        """Record rows lost before they reached the exporter (a full processor queue)."""
        with self._lock:
            self._dropped += rows

    def open_store(self) -> bool:
        """Open the database now, so a bad file is reported at configuration time.

        Raises `StoreError` when the file is not a usable enrichment-logs database. Returns False
        when another process holds it, or a DuckLake's catalog cannot be reached: not an error,
        rows wait in the spool until it is released or back.
        """
        with self._lock:
            try:
                return self._open() is not None
            except (StoreLockedError, CatalogUnreachableError) as exc:
                self._store_failed(exc)
                return False

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]] | None:
        """Read what was committed through the writer's connection (budgets restore today's
        spend at start); None while another process holds the file."""
        with self._lock:
            store = self._open_quietly()
            return None if store is None else store.connection.execute(sql, parameters).fetchall()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        rows = self._rows(spans)
        self._tell_listeners(rows)
        with self._spool_lock:
            if self._shut_down:
                self._dropped += len(rows)
                return SpanExportResult.FAILURE
            if rows:
                try:
                    self._pending[self.spool.append(rows)] = len(rows)
                except (OSError, ValueError, TypeError) as exc:
                    self._dropped += len(rows)
                    self._episode_started(
                        "spool", "could not write to the spool %s, rows are lost: %s", exc
                    )
                    return SpanExportResult.FAILURE
                self._pending_rows += len(rows)
                self._episode_ended("spool", "the spool %s is writable again")
            self._start_writer()
        if self._pending_rows >= WAKE_ROWS:
            self._wake.set()
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Write what waits in the spool; True when nothing is left waiting."""
        deadline = time.monotonic() + timeout_millis / 1000
        if not self._lock.acquire(timeout=max(0.0, timeout_millis / 1000)):
            return False
        try:
            drained = self._drain(deadline)
            self._publish_pending()
            return drained
        finally:
            self._lock.release()

    def shutdown(self) -> None:
        """Stop the writer thread, try the spool once more and release the file; what is left
        is replayed next run."""
        with self._spool_lock:
            if self._shut_down:
                return
            self._shut_down = True
            writer, self._writer = self._writer, None
        self._wake.set()
        if writer is not None and writer is not threading.current_thread():
            writer.join()
        with self._lock:
            if not self._drain(deadline=None):
                _logger.warning(
                    "%d rows stay in the spool %s; the next run on this spool writes them",
                    self._pending_rows,
                    self.spool.directory,
                )
            self._publish_pending()
            if self.publisher is not None:
                self.publisher.close()
            self._close_store()

    def _rows(self, spans: Sequence[ReadableSpan]) -> list[dict[str, object]]:
        """Map outside the lock: pricing is the costly part and needs no shared state.

        Mapping is pure Python, so it holds the GIL: left alone, a pipeline thread whose response
        arrives meanwhile waits up to the interpreter's switch interval (5 ms) to run again. The
        loop hands the GIL over every `GIL_SLICE_SECONDS`, bounding that wait.
        """
        rows = []
        slice_ends = time.perf_counter() + GIL_SLICE_SECONDS
        for span in spans:
            if time.perf_counter() > slice_ends:
                time.sleep(0)  # releases the GIL; a waiting pipeline thread takes it first
                slice_ends = time.perf_counter() + GIL_SLICE_SECONDS
            try:
                row = span_to_row(span, self._pricer)
            except Exception:  # a bug in the mapping must not cost the rest of the batch
                _logger.exception("could not map span %r; its row is lost", span.name)
                self.count_dropped(1)
                continue
            if row is not None:
                rows.append(row)
        return rows

    def _tell_listeners(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Priced rows for the console (and later budgets and metrics), in the export thread."""
        for listener in self._row_listeners:
            try:
                listener(rows)
            except Exception:  # a listener's bug must cost neither the rows nor the pipeline
                if id(listener) not in self._failed_listeners:
                    self._failed_listeners.add(id(listener))
                    _logger.exception("row listener %r failed (reported once)", listener)

    # --- the writer thread ------------------------------------------------------------------
    def _start_writer(self) -> None:
        """Start the writer thread on the first export (called with the spool lock held)."""
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_periodically, name="enrichment-logs-writer", daemon=True
            )
            self._writer.start()

    def _write_periodically(self) -> None:
        """Drain and publish every `INGEST_INTERVAL_SECONDS`, or when woken; stops at shutdown."""
        while True:
            self._wake.wait(INGEST_INTERVAL_SECONDS)
            self._wake.clear()
            with self._lock:
                if self._shut_down:
                    return
                self._drain(deadline=None)
                if self.publisher is not None and self._store is not None:
                    self.publisher.publish_if_due(self._store.connection, self._written)

    # --- called with the lock held ------------------------------------------------------------
    def _drain(self, deadline: float | None) -> bool:
        """Ingest pending segments oldest first; True when the spool is empty."""
        try:
            return self._ingest_pending(deadline)
        except OSError as exc:  # the spool directory itself: unreadable, or a file not removable
            self._episode_started("spool", "cannot use the spool %s: %s", exc)
            return False

    def _ingest_pending(self, deadline: float | None) -> bool:
        segments = self.spool.segments()
        self._track(segments)
        if not segments:
            return True
        store = self._open_quietly()
        if store is None:
            return False
        held_elsewhere = False
        for group in _groups(segments):
            if deadline is not None and time.monotonic() > deadline:
                return False
            with contextlib.ExitStack() as claims:
                ours = [
                    segment for segment in group if claims.enter_context(self.spool.claim(segment))
                ]
                # not ours: another writer of the same store is writing it, or has
                held_elsewhere |= any(s.exists() for s in group if s not in ours)
                if not ours:
                    continue
                try:
                    self._written += self._ingest_group(store, ours)
                except StoreError as exc:
                    self._store_failed(exc)
                    self._close_store()
                    return False
                for segment in ours:  # only now: a crash before this replays, harmlessly
                    self.spool.remove(segment)
                self._forget(ours)
        self._episode_ended("store", "the database is writable again; the spool %s is empty")
        return not held_elsewhere

    def _ingest_group(self, store: Store, segments: Sequence[Path]) -> int:
        """Rows inserted from `segments`, in one statement; when their data does not fit the
        table, one by one, so only the segments at fault are set aside."""
        try:
            return store.ingest(*segments)
        except SegmentRejectedError as exc:
            if len(segments) == 1:
                self._reject(segments[0], exc)
                return 0
        written = 0
        for segment in segments:
            try:
                written += store.ingest(segment)
            except SegmentRejectedError as exc:
                self._reject(segment, exc)
        return written

    def _track(self, segments: Sequence[Path]) -> None:
        """Count the rows of segments this exporter did not write (a crashed run's, another
        process's), and forget segments others removed."""
        counts = {s: self.spool.count_rows(s) for s in segments if s not in self._pending}
        listed = set(segments)
        with self._spool_lock:
            self._pending.update(counts)
            for gone in [s for s in self._pending if s not in listed and not s.exists()]:
                del self._pending[gone]
            self._pending_rows = sum(self._pending.values())

    def _forget(self, segments: Sequence[Path]) -> None:
        with self._spool_lock:
            for segment in segments:
                self._pending_rows -= self._pending.pop(segment, 0)

    def _publish_pending(self) -> None:
        if self.publisher is not None and self._store is not None:
            self.publisher.publish_pending(self._store.connection, self._written)

    def _open(self) -> Store | None:
        if self._store is None and not self._spool_only:
            self._store = open_store(self.store_url)
        return self._store

    def _open_quietly(self) -> Store | None:
        try:
            return self._open()
        except StoreError as exc:
            self._store_failed(exc)
            return None

    def _store_failed(self, exc: StoreError) -> None:
        self._store_failures += 1
        self._episode_started("store", "rows wait in the spool %s: %s", exc)

    def _reject(self, segment: Path, exc: SegmentRejectedError) -> None:
        try:
            kept = self.spool.reject(segment)
        except OSError:
            kept = segment
        with self._spool_lock:
            rows = self._pending.pop(segment, 0)
            self._pending_rows -= rows
            self._dropped += rows
        _logger.error("%d rows were not written and are kept in %s: %s", rows, kept, exc)

    def _close_store(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            try:
                store.close()
            except Exception as exc:  # closing checkpoints, which can fail like any write
                _logger.warning("closing %s failed: %s", self.store_url, exc)

    def _episode_started(self, kind: str, message: str, exc: BaseException) -> None:
        """Log once when a kind of failure starts, not once per batch while it lasts."""
        if self._failing.get(kind) != type(exc).__name__:
            self._failing[kind] = type(exc).__name__
            _logger.warning(message, self.spool.directory, exc)

    def _episode_ended(self, kind: str, message: str) -> None:
        if self._failing.pop(kind, None) is not None:
            _logger.warning(message, self.spool.directory)

    def _after_fork_in_child(self) -> None:
        """A forked child must not touch the parent's open database (DuckDB's file lock is not
        inherited, so two processes would write it). It spools; the parent ingests the shared
        spool on its next drain, flush or shutdown. The parent's writer thread is not in the
        child; the child starts its own on its first export."""
        self._lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._writer = None
        self._wake = threading.Event()
        if self.publisher is not None:
            self.publisher.abandon_after_fork()
        if self._store is not None:
            _inherited_stores.append(self._store)
            self._store = None
            self._spool_only = True


def _groups(segments: Sequence[Path]) -> Iterator[list[Path]]:
    """Consecutive runs of segments within `GROUP_SEGMENTS` and `GROUP_BYTES`."""
    group: list[Path] = []
    size = 0
    for segment in segments:
        try:
            length = segment.stat().st_size
        except FileNotFoundError:
            continue
        if group and (len(group) >= GROUP_SEGMENTS or size + length > GROUP_BYTES):
            yield group
            group, size = [], 0
        group.append(segment)
        size += length
    if group:
        yield group


def _default_pricer() -> Pricer:
    """The package's cost engine, imported only when needed (it loads price tables)."""
    from enrichment_logs.pricing.engine import CostEngine

    return CostEngine()


def call_in_forked_child(method: Callable[[], None]) -> None:
    """Run a bound method in every forked child, without keeping its object alive."""
    reference = weakref.WeakMethod(method)

    def call() -> None:
        bound = reference()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=call)
