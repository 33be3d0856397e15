"""httpx, sync and async: the Perplexity SDK and the async Exa and Firecrawl clients use it.

We wrap `Client.send` and `AsyncClient.send`, the one method every httpx request passes through
(`httpx.post`, `client.get`, `client.stream`, SDKs' own `send`), one level above the transport
that `opentelemetry-instrumentation-httpx` wraps: our span is current while the transport runs,
so the HTTP client span is its child. A body the client read (`stream=False`) is parsed from its
bytes; a streamed body is teed (see `body.py`).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx

from enrichment_logs.guards.cache import CachedResponse
from enrichment_logs.instrumentation.http.body import (
    BodyReader,
    BodyTap,
    parse_json,
    tee_async,
    tee_sync,
)
from enrichment_logs.instrumentation.http.exchange import Exchange, begin
from enrichment_logs.instrumentation.http.guarded import SDK_RETRY_HEADER, HttpGuard, guard
from enrichment_logs.instrumentation.http.patching import Patch
from enrichment_logs.instrumentation.http.safety import never_raises


def _send(
    wrapped: Callable[..., httpx.Response],
    instance: httpx.Client,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> httpx.Response:
    exchange = _begin(args, kwargs)
    if exchange is None:
        return wrapped(*args, **kwargs)
    request, streamed = _request_of(args, kwargs), bool(kwargs.get("stream"))
    guarded = guard(exchange, streamed=streamed, sdk_retries=SDK_RETRY_HEADER in request.headers)
    if guarded is not None and guarded.hit is not None:
        return _replay(guarded.hit, request)
    with exchange.sending():
        try:
            if guarded is None:
                response = wrapped(*args, **kwargs)
            else:
                response = guarded.send(lambda: wrapped(*args, **kwargs), httpx.Response.close)
        except BaseException as error:
            exchange.failed(error)
            raise
    _keep(guarded, response, streamed)
    _watch(exchange, response, streamed=streamed)
    return response


async def _send_async(
    wrapped: Callable[..., Awaitable[httpx.Response]],
    instance: httpx.AsyncClient,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> httpx.Response:
    exchange = _begin(args, kwargs)
    if exchange is None:
        return await wrapped(*args, **kwargs)
    request, streamed = _request_of(args, kwargs), bool(kwargs.get("stream"))
    guarded = guard(exchange, streamed=streamed, sdk_retries=SDK_RETRY_HEADER in request.headers)
    if guarded is not None and guarded.hit is not None:
        return _replay(guarded.hit, request)
    with exchange.sending():
        try:
            if guarded is None:
                response = await wrapped(*args, **kwargs)
            else:
                response = await guarded.send_async(
                    lambda: wrapped(*args, **kwargs), httpx.Response.aclose
                )
        except BaseException as error:
            exchange.failed(error)
            raise
    _keep(guarded, response, streamed)
    _watch(exchange, response, streamed=streamed)
    return response


PATCHES = (Patch(httpx.Client, "send", _send), Patch(httpx.AsyncClient, "send", _send_async))


@never_raises(None)
def _begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exchange | None:
    request = _request_of(args, kwargs)
    return begin(str(request.url), request.method, _request_json(request))


def _request_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> httpx.Request:
    request: httpx.Request = args[0] if args else kwargs["request"]
    return request


def _replay(hit: CachedResponse, request: httpx.Request) -> httpx.Response:
    """A cached response as the client would have returned it: read, closed, parseable."""
    headers = {"content-type": hit.content_type} if hit.content_type else {}
    response = httpx.Response(hit.status, headers=headers, content=hit.body, request=request)
    response.elapsed = timedelta(0)
    return response


@never_raises(None)
def _keep(guarded: HttpGuard | None, response: httpx.Response, streamed: bool) -> None:
    if guarded is not None and not streamed:
        guarded.keep(response.status_code, response.headers.get("content-type"), response.content)


def _request_json(request: httpx.Request) -> Any:
    try:
        return parse_json(request.content)
    except httpx.RequestNotRead:  # a streamed upload: no JSON to read
        return None


@never_raises(None)
def _watch(exchange: Exchange, response: httpx.Response, *, streamed: bool) -> None:
    """Finish now if the client read the body, else when the caller's stream ends."""
    if not streamed:
        exchange.finish(response.status_code, parse_json(response.content))
        return
    reader = BodyReader(
        response.headers.get("content-type"),
        response.headers.get("content-encoding"),  # the tee sees the bytes before decoding
        exchange.api.final_event,
        exchange.api.STREAM_MARKERS,
    )
    tap = BodyTap(reader, functools.partial(exchange.finish, response.status_code))
    inner = response.stream
    if isinstance(inner, httpx.AsyncByteStream):
        response.stream = _TeedAsyncStream(inner, tap)
    elif isinstance(inner, httpx.SyncByteStream):
        response.stream = _TeedStream(inner, tap)
    weakref.finalize(response, tap.end)  # a stream dropped unclosed still ends its call


class _TeedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, tap: BodyTap) -> None:
        self._inner = inner
        self._tap = tap

    def __iter__(self) -> Iterator[bytes]:
        return tee_sync(iter(self._inner), self._tap)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._tap.end()


class _TeedAsyncStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, tap: BodyTap) -> None:
        self._inner = inner
        self._tap = tap

    def __aiter__(self) -> AsyncIterator[bytes]:
        return tee_async(aiter(self._inner), self._tap)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._tap.end()
