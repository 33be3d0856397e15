"""Reading a response body without taking it from the caller, and without buffering streams.

A body the client has already read (a non-streamed call) is parsed from its bytes. A streamed
body is teed: each chunk goes to the caller unchanged, as soon as it arrives, and through a
`BodyReader` on the side, which keeps only what pricing needs (the final event of a server-sent
event stream, or a bounded copy of a JSON body). When the stream ends, fails or is closed, the
`BodyTap` reports once what it saw. A stream dropped without being closed reports when the
response is garbage collected, so its call still ends.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from enrichment_logs.instrumentation.http.safety import never_raises

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Larger bodies (or single stream events) are not parsed: the call is logged without usage."""

EndCallback = Callable[[Any, BaseException | None], None]
"""Called once with the parsed body (or None) and the error that broke the stream (or None)."""


@never_raises(None)
def parse_json(content: bytes) -> Any:
    """A body the client has read, as JSON; None when it is not JSON (an HTML error page)."""
    if not content or len(content) > MAX_BODY_BYTES or content.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


class BodyReader:
    """What a streamed body says, gathered as its chunks pass.

    A server-sent event stream keeps only the latest event that `final_event` picks (the one
    carrying usage); any other body is copied up to `MAX_BODY_BYTES` and parsed at the end.
    Compressed bytes (a tee sits below the client's decoder) are inflated for gzip and deflate;
    other encodings leave the body unread.
    """

    def __init__(
        self,
        content_type: str | None,
        content_encoding: str | None,
        final_event: Callable[[Any], Any],
        markers: Sequence[bytes],
    ) -> None:
        self._events = (content_type or "").lower().startswith("text/event-stream")
        self._final_event = final_event
        self._markers = markers
        self._inflate = _inflater(content_encoding)
        self._pending = bytearray()
        self._data: list[bytes] = []
        self._final: Any = None
        self._unreadable = self._inflate is None

    def feed(self, chunk: bytes) -> None:
        if self._unreadable or not chunk:
            return
        assert self._inflate is not None
        self._pending += self._inflate(chunk)
        if len(self._pending) > MAX_BODY_BYTES:
            self._unreadable = True
            self._pending.clear()
        elif self._events:
            self._read_lines()

    def result(self) -> Any:
        """The body to price: the picked final event, or the whole body parsed as JSON."""
        if self._unreadable:
            return None
        if not self._events:
            return parse_json(bytes(self._pending))
        self._pending += b"\n\n"  # a stream may end without the blank line after its last event
        self._read_lines()
        return self._final

    def _read_lines(self) -> None:
        start = 0
        while (end := self._pending.find(b"\n", start)) >= 0:
            line = bytes(self._pending[start:end]).rstrip(b"\r")
            start = end + 1
            if not line:
                self._dispatch()
            elif line.startswith(b"data:"):
                self._data.append(line[5:].removeprefix(b" "))
        del self._pending[:start]

    def _dispatch(self) -> None:
        data, self._data = b"\n".join(self._data), []
        if not any(marker in data for marker in self._markers):
            return  # most events are text deltas: not worth parsing
        event = parse_json(data)
        picked = self._final_event(event) if event is not None else None
        if picked is not None:
            self._final = picked


def _inflater(encoding: str | None) -> Callable[[bytes], bytes] | None:
    """A chunk decoder for the body's content encoding, or None for one we cannot read."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return bytes
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in encoding else 0)).decompress
    return None


class BodyTap:
    """Feeds a reader and reports once, whether the stream ends, breaks, is closed or dropped."""

    def __init__(self, reader: BodyReader, on_end: EndCallback) -> None:
        self._reader = reader
        self._on_end = on_end
        self._ended = False
        self._lock = threading.Lock()

    @never_raises(None)
    def feed(self, chunk: bytes) -> None:
        self._reader.feed(chunk)

    def end(self, error: BaseException | None = None) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._report(error)

    @never_raises(None)
    def _report(self, error: BaseException | None) -> None:
        self._on_end(self._reader.result(), error)


def tee_sync(chunks: Iterator[bytes], tap: BodyTap) -> Iterator[bytes]:
    """Yield `chunks` unchanged through `tap`; a break by the caller is not an error."""
    try:
        for chunk in chunks:
            tap.feed(chunk)
            yield chunk
    except Exception as error:
        tap.end(error)
        raise
    tap.end()


async def tee_async(chunks: AsyncIterator[bytes], tap: BodyTap) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            tap.feed(chunk)
            yield chunk
    except Exception as error:
        tap.end(error)
        raise
    tap.end()
