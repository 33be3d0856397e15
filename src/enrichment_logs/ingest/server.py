"""The HTTP side of the ingest service: `POST /v1/traces` as the OTLP specification defines it.

Built on the standard library's `ThreadingHTTPServer`, as the emulator is: the service needs no
new dependency, HTTP/1.1 keep-alive is what OTLP clients use, and what makes a server hard to
run (unbounded bodies, unbounded concurrency, slow clients, stopping cleanly) is handled here:
the body is limited before and after decompression, requests beyond the writer's slots are
refused with 429, an idle or slow connection times out, and `stop()` lets requests in flight
finish (and be acknowledged) before it closes the remaining connections. A connection thread
per client is fine at this scale: the clients are Collectors, each with a handful of senders.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Final
from urllib.parse import urlsplit

from enrichment_logs.http_server import ConnectionTrackingServer
from enrichment_logs.ingest.otlp_spans import received_spans
from enrichment_logs.ingest.wire import (
    Encoding,
    RequestError,
    decompressed,
    parse_request,
    status_body,
    success_body,
)
from enrichment_logs.ingest.writer import BatchRefusedError, Refusal, SpanWriter

_logger = logging.getLogger(__name__)

TRACES_PATH: Final = "/v1/traces"
CONNECTION_TIMEOUT_SECONDS: Final = 30.0
"""A connection that sends nothing for this long (idle keep-alive, or a stalled body) is closed."""
RETRY_AFTER_SECONDS: Final = {Refusal.BUSY: 1, Refusal.UNAVAILABLE: 5, Refusal.STOPPING: 5}
UNREAD_BODY_DISCARD_BYTES: Final = 256 * 1024
"""A refused body up to this size is read and dropped before the connection closes, so the
client reads the answer instead of a reset (closing on unread data sends a TCP RST)."""
_REFUSAL_STATUS: Final = {
    Refusal.BUSY: HTTPStatus.TOO_MANY_REQUESTS,
    Refusal.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    Refusal.STOPPING: HTTPStatus.SERVICE_UNAVAILABLE,
}


class OtlpHttpServer(ConnectionTrackingServer):
    """Serves OTLP/HTTP traces into a `SpanWriter` until `stop()`."""

    daemon_threads = False  # stop() waits for every request thread
    block_on_close = True

    def __init__(self, address: tuple[str, int], writer: SpanWriter, max_body_bytes: int) -> None:
        self.writer = writer
        self.max_body_bytes = max_body_bytes
        self.stopping = threading.Event()
        self._busy = 0
        self._state = threading.Condition()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop accepting, let requests in flight finish (bounded), close what is left."""
        self.stopping.set()
        self.shutdown()
        deadline = time.monotonic() + grace_seconds
        with self._state:
            while self._busy and time.monotonic() < deadline:
                self._state.wait(deadline - time.monotonic())
        self.close_connections()
        self.server_close()

    @contextlib.contextmanager
    def busy(self) -> Any:
        """Counts a request in flight, so `stop()` can wait for it to be answered."""
        with self._state:
            self._busy += 1
        try:
            yield
        finally:
            with self._state:
                self._busy -= 1
                self._state.notify_all()

    def report_unexpected_error(self, request: Any, client_address: Any) -> None:
        _logger.exception("unexpected error serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = CONNECTION_TIMEOUT_SECONDS
    server_version = "enrichment-logs-ingest"
    server: OtlpHttpServer
    _unread: int | None = None
    """Body bytes the client announced and the handler has not read yet (None: no length)."""

    def do_POST(self) -> None:
        self._unread = _content_length(self.headers.get("Content-Length"))
        encoding = Encoding.of(self.headers.get("Content-Type"))
        with self.server.busy():
            try:
                self._export(encoding)
            except RequestError as exc:
                _logger.warning("refused a request from %s: %s", self.client_address[0], exc)
                self._reply(
                    exc.status,
                    encoding,
                    status_body(_or_protobuf(encoding), exc.status, exc.message),
                )
            except BatchRefusedError as exc:
                status = _REFUSAL_STATUS[exc.refusal]
                _logger.info("asked %s to retry: %s", self.client_address[0], exc)
                self._reply(
                    status,
                    encoding,
                    status_body(_or_protobuf(encoding), status, str(exc)),
                    retry_after=RETRY_AFTER_SECONDS[exc.refusal],
                )

    def do_GET(self) -> None:
        self._not_allowed()

    def do_PUT(self) -> None:
        self._not_allowed()

    def do_DELETE(self) -> None:
        self._not_allowed()

    def _export(self, encoding: Encoding | None) -> None:
        if urlsplit(self.path).path != TRACES_PATH:
            raise RequestError(HTTPStatus.NOT_FOUND, f"only {TRACES_PATH} is served here")
        if encoding is None:
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/x-protobuf or application/json",
            )
        if self.server.stopping.is_set():
            raise BatchRefusedError(Refusal.STOPPING)
        writer = self.server.writer
        with writer.admitted():
            writer.check_backlog()  # before reading a body that would only be refused
            body = self._read_body()
            if body is None:
                return
            request = parse_request(
                decompressed(
                    body, self.headers.get("Content-Encoding"), self.server.max_body_bytes
                ),
                encoding,
            )
            received = received_spans(request)
            refused = writer.write(received.tool_calls)
        problems = [received.rejection_message] if received.rejected else []
        if refused:
            problems.append(f"{refused} spans could not be stored as rows (see the service's log)")
        message = "; ".join(problems)
        self._reply(
            HTTPStatus.OK,
            encoding,
            success_body(encoding, received.rejected + refused, message),
            keep_alive=True,
        )

    def _read_body(self) -> bytes | None:
        """The whole body, or None when the client went away before sending it."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        length = self._unread
        if length is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if length > self.server.max_body_bytes:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is larger than {self.server.max_body_bytes} bytes",
            )
        self._unread = 0
        try:
            body = self.rfile.read(length)
        except OSError:
            body = b""
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _discard_unread_body(self) -> None:
        if self._unread and self._unread <= UNREAD_BODY_DISCARD_BYTES:
            with contextlib.suppress(OSError):
                self.rfile.read(self._unread)
        self._unread = 0

    def _not_allowed(self) -> None:
        self._unread = _content_length(self.headers.get("Content-Length"))
        encoding = Encoding.of(self.headers.get("Content-Type"))
        self._reply(
            HTTPStatus.METHOD_NOT_ALLOWED,
            encoding,
            status_body(_or_protobuf(encoding), HTTPStatus.METHOD_NOT_ALLOWED, "use POST"),
            extra_headers={"Allow": "POST"},
        )

    def _reply(
        self,
        status: HTTPStatus,
        encoding: Encoding | None,
        body: bytes,
        *,
        retry_after: int | None = None,
        keep_alive: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        """Answer in the request's content type. Only a fully read request keeps the
        connection: after a refusal the unread body would be taken for the next request."""
        if not keep_alive:
            self._discard_unread_body()
        self.send_response(status)
        self.send_header("Content-Type", _or_protobuf(encoding).value)
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        if not keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug("%s " + format, self.client_address[0], *args)


def _content_length(header: str | None) -> int | None:
    text = (header or "").strip()
    return int(text) if text.isdigit() else None


def _or_protobuf(encoding: Encoding | None) -> Encoding:
    return encoding or Encoding.PROTOBUF
