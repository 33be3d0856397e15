"""The response cache: a provider's answer to a request, kept for its TTL, in a DuckDB file.

A DuckDB file of its own (`<db_path>.cache`, or `cache_path`), not a table in the log: the log's
file belongs to the exporter, which writes it from its own thread in batches and leaves it to
other processes at times (rows then wait in the spool), while a cache lookup must answer on the
pipeline's thread within a millisecond, every time. Keeping them apart also means the cache can
be deleted at any moment without touching the log.

Entries are keyed by `request_hash` and hold the response (status, content type, body bytes) and
what the call that fetched it cost, which every hit then saves. The file is private to its owner
(mode 0600, like the log). When it cannot be used (held by another process, not a DuckDB file),
caching is off for this process with one warning; calls go out as if uncached.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import duckdb

from enrichment_logs.export.duckdb_store import is_duckdb_file, keep_wal_private
from enrichment_logs.guards.settings import MAX_CACHE_TTL_SECONDS

_log = logging.getLogger("enrichment_logs.guards")

HORIZON: Final = timedelta(seconds=MAX_CACHE_TTL_SECONDS)
"""Entries older than this are deleted when the file is opened: no TTL reaches further."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS response_cache (
    key          VARCHAR PRIMARY KEY,   -- the request_hash
    provider     VARCHAR NOT NULL,
    operation    VARCHAR NOT NULL,
    status       INTEGER NOT NULL,
    content_type VARCHAR,
    body         BLOB NOT NULL,
    cost         DECIMAL(18, 10),       -- what fetching it cost: saved by every hit
    stored_at    TIMESTAMPTZ NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    content_type: str | None
    body: bytes
    cost: Decimal | None = None
    """What the call that fetched it cost (None: unknown)."""


class ResponseCache:
    """Thread-safe; opens its file on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._unusable = False

    def get(self, key: str, ttl_seconds: float) -> CachedResponse | None:
        """The entry stored for `key` less than `ttl_seconds` ago, if any."""
        fresh_since = datetime.now(UTC) - timedelta(seconds=ttl_seconds)
        with self._lock:
            connection = self._open()
            if connection is None:
                return None
            try:
                found = connection.execute(
                    "SELECT status, content_type, body, cost FROM response_cache "
                    "WHERE key = ? AND stored_at >= ?",
                    [key, fresh_since],
                ).fetchone()
            except duckdb.Error as error:
                self._give_up(error)
                return None
        if found is None:
            return None
        status, content_type, body, cost = found
        return CachedResponse(int(status), content_type, bytes(body), cost)

    def put(self, key: str, provider: str, operation: str, response: CachedResponse) -> None:
        with self._lock:
            connection = self._open()
            if connection is None:
                return
            try:
                connection.execute(
                    "INSERT OR REPLACE INTO response_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        key,
                        provider,
                        operation,
                        response.status,
                        response.content_type,
                        response.body,
                        response.cost,
                        datetime.now(UTC),
                    ],
                )
                keep_wal_private(self.path)  # responses are as private as the rows
            except duckdb.Error as error:
                self._give_up(error)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        if self._connection is not None or self._unusable:
            return self._connection
        try:
            created = not self.path.exists()
            if not created and not is_duckdb_file(self.path):
                raise OSError(f"{self.path} is not a DuckDB database")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(str(self.path))
            if created:
                self.path.chmod(0o600)
            connection.execute(_SCHEMA)
            connection.execute(
                "DELETE FROM response_cache WHERE stored_at < ?",
                [datetime.now(UTC) - HORIZON],
            )
            keep_wal_private(self.path)
        except (duckdb.Error, OSError) as error:
            self._give_up(error)
            return None
        self._connection = connection
        return connection

    def _give_up(self, error: BaseException) -> None:
        """Caching off for this process; the calls go on, uncached."""
        self._unusable = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        _log.warning("response cache %s is off for this process: %s", self.path, error)
