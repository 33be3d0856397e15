"""`ConnectionTrackingServer`: the standard library's threading HTTP server, stoppable for real.

The emulator and the ingest service both serve HTTP/1.1 keep-alive clients from
`ThreadingHTTPServer`, whose `shutdown()` stops accepting but leaves every open connection's
thread serving. Tracking the open connections lets `close_connections()` end them, and a client
that hangs up or times out (an `OSError` in its thread) is not reported as a server error.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ConnectionTrackingServer(ThreadingHTTPServer):
    """Knows its open connections, so that stopping can close the idle keep-alive ones."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Ends open connections, whose threads would otherwise go on serving."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or times out is not a server error."""
        if not isinstance(sys.exc_info()[1], OSError):
            self.report_unexpected_error(request, client_address)

    def report_unexpected_error(self, request: Any, client_address: Any) -> None:
        """What any other error in a request's thread does: the standard library's report."""
        super().handle_error(request, client_address)
