"""Streams that log their call when they end, and behave exactly like the SDK's otherwise.

A streamed call is paid for when it ends, not when `create()` returns: usage arrives on the
last chat chunk or on the Responses terminal event. So `create(stream=True)` returns the SDK's
`Stream` (`AsyncStream`) inside a `wrapt.ObjectProxy` that watches each item and ends the call
exactly once, whichever way the stream ends: exhausted, failed, `close()`d, left through its
context manager, or abandoned by the caller (garbage collected). Everything else (attributes,
`response`, `isinstance(stream, openai.Stream)`) is the SDK's own object.

The only item a caller may not see is the usage-only chat chunk (empty `choices`) that the
instrumentation asked for on the caller's behalf, so that code reading `chunk.choices[0]` works
as it did without us.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final, Protocol

import wrapt

from enrichment_logs import semconv
from enrichment_logs.instrumentation.openai.recording import NO_RESPONSE, Recording, report_failure
from enrichment_logs.instrumentation.openai.usage import (
    chat_usage,
    failure_of,
    field,
    responses_usage,
)
from enrichment_logs.pricing.usage import Usage

TERMINAL_EVENTS: Final = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "response.cancelled"}
)
"""Responses stream events that carry the final response with its usage."""


class Outcome(Protocol):
    """What a stream's items say about its call: each item is observed, the rest read at end."""

    def observe(self, item: Any) -> bool: ...
    def usage(self) -> Usage | None: ...
    def response(self) -> Any: ...
    def failure(self) -> str | None: ...


class ChatChunks:
    """Chat chunks: usage is on the last chunk that has it (Sonar repeats it on every chunk)."""

    __slots__ = ("_hide_usage_chunk", "_latest", "_with_usage")

    def __init__(self, *, hide_usage_chunk: bool) -> None:
        self._hide_usage_chunk = hide_usage_chunk
        self._latest: Any = None
        self._with_usage: Any = None

    def observe(self, chunk: Any) -> bool:
        """Remember the chunk; False for the usage-only chunk the caller did not ask for."""
        self._latest = chunk
        if field(chunk, "usage") is None:
            return True
        self._with_usage = chunk
        return not (self._hide_usage_chunk and not field(chunk, "choices"))

    def usage(self) -> Usage | None:
        # Without a usage chunk the latest chunk still names the model: tokens stay unknown.
        chunk = self._latest if self._with_usage is None else self._with_usage
        return None if chunk is None else chat_usage(chunk)

    def response(self) -> Any:
        return NO_RESPONSE

    def failure(self) -> str | None:
        return None


class ResponseEvents:
    """Responses events: the terminal event carries the whole response, usage included."""

    __slots__ = ("_final",)

    def __init__(self) -> None:
        self._final: Any = None

    def observe(self, event: Any) -> bool:
        if field(event, "type") in TERMINAL_EVENTS:
            self._final = field(event, "response")
        return True

    def usage(self) -> Usage | None:
        return None if self._final is None else responses_usage(self._final)

    def response(self) -> Any:
        return NO_RESPONSE if self._final is None else self._final

    def failure(self) -> str | None:
        return None if self._final is None else failure_of("responses", self._final)


class StreamObserver:
    """Times the first chunk, feeds items to the outcome, and ends the recording once."""

    __slots__ = ("_ended", "_lock", "_outcome", "_recording", "_started", "_waiting_first")

    def __init__(self, recording: Recording, outcome: Outcome, started: float) -> None:
        self._recording = recording
        self._outcome = outcome
        self._started = started
        self._waiting_first = True
        self._ended = False
        self._lock = threading.Lock()

    def observe(self, item: Any) -> bool:
        """True when the caller sees `item`. Never raises: a failure here shows the item."""
        try:
            if self._waiting_first:
                self._waiting_first = False
                elapsed = time.perf_counter() - self._started
                self._recording.set_attribute(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, elapsed)
            return self._outcome.observe(item)
        except Exception:
            report_failure("stream item")
            return True

    def finish(self) -> None:
        """The stream ended without an error (or was left): a success with what it reported."""
        if self._claim():
            outcome = self._outcome
            self._recording.finish(
                _guarded(outcome.usage), _guarded(outcome.response), _guarded(outcome.failure)
            )

    def fail(self, error: BaseException) -> None:
        if self._claim():
            self._recording.fail(error, _guarded(self._outcome.usage))

    def _claim(self) -> bool:
        """True for the first end only; a stream can end from its consumer and from the GC."""
        with self._lock:
            first, self._ended = not self._ended, True
        return first


def _guarded(read: Any) -> Any:
    try:
        return read()
    except Exception:
        report_failure("stream outcome")
        return None


class InstrumentedStream(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The SDK's `Stream`, ending its call when the stream ends."""

    def __init__(self, stream: Any, observer: StreamObserver) -> None:
        super().__init__(stream)
        self._self_observer = observer

    def __next__(self) -> Any:
        observer = self._self_observer
        while True:
            try:
                item = self.__wrapped__.__next__()
            except StopIteration:
                observer.finish()
                raise
            except BaseException as error:
                observer.fail(error)
                raise
            if observer.observe(item):
                return item

    def __iter__(self) -> Iterator[Any]:
        # A generator, like the SDK's own `__iter__`, over the shared item iterator.
        while True:
            try:
                item = self.__next__()
            except StopIteration:
                return
            yield item

    def __enter__(self) -> InstrumentedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_observer.finish()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_observer.finish()

    def __del__(self) -> None:
        _finish_abandoned(self)


class InstrumentedAsyncStream(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The SDK's `AsyncStream`, ending its call when the stream ends."""

    def __init__(self, stream: Any, observer: StreamObserver) -> None:
        super().__init__(stream)
        self._self_observer = observer

    async def __anext__(self) -> Any:
        observer = self._self_observer
        while True:
            try:
                item = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                observer.finish()
                raise
            except BaseException as error:
                observer.fail(error)
                raise
            if observer.observe(item):
                return item

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            try:
                item = await self.__anext__()
            except StopAsyncIteration:
                return
            yield item

    async def __aenter__(self) -> InstrumentedAsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_observer.finish()

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_observer.finish()

    async def aclose(self) -> None:
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_observer.finish()

    def __del__(self) -> None:
        _finish_abandoned(self)


def _finish_abandoned(stream: InstrumentedStream | InstrumentedAsyncStream) -> None:
    """A stream the caller dropped unfinished still ends its call (usage is then unknown)."""
    try:
        stream._self_observer.finish()
    except Exception:
        report_failure("abandoned stream")
