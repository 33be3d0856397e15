"""requests: the sync Exa and Firecrawl clients use it (Firecrawl through module-level
`requests.post`, so there is no session of theirs to hook).

We wrap `Session.request`, which `requests.post(...)` and every session method pass through.
`opentelemetry-instrumentation-requests` replaces `Session.send`, the method below it, so the two
never wrap the same attribute: our span is current while `send` runs and the HTTP client span is
its child, whichever was instrumented first. Without `stream=True`, requests has read the body
when `request` returns; with it, the body is teed as the caller reads it (see `body.py`).
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Iterator
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import requests
import wrapt
from requests.structures import CaseInsensitiveDict

from enrichment_logs.guards.cache import CachedResponse
from enrichment_logs.instrumentation.http.body import BodyReader, BodyTap, parse_json, tee_sync
from enrichment_logs.instrumentation.http.exchange import Exchange, begin
from enrichment_logs.instrumentation.http.guarded import guard
from enrichment_logs.instrumentation.http.patching import Patch
from enrichment_logs.instrumentation.http.safety import never_raises

_SIGNATURE = inspect.signature(requests.Session.request)


def _request(
    wrapped: Callable[..., requests.Response],
    instance: requests.Session,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> requests.Response:
    started = _begin(instance, args, kwargs)
    if started is None:
        return wrapped(*args, **kwargs)
    exchange, streamed, url = started
    guarded = guard(exchange, streamed=streamed, sdk_retries=False)
    if guarded is not None and guarded.hit is not None:
        return _replay(guarded.hit, url)
    with exchange.sending():
        try:
            if guarded is None:
                response = wrapped(*args, **kwargs)
            else:
                response = guarded.send(lambda: wrapped(*args, **kwargs), requests.Response.close)
        except BaseException as error:
            exchange.failed(error)
            raise
    if guarded is not None and not streamed:
        guarded.keep(response.status_code, response.headers.get("content-type"), response.content)
    _watch(exchange, response, streamed=streamed)
    return response


PATCHES = (Patch(requests.Session, "request", _request),)


@never_raises(None)
def _begin(
    session: requests.Session, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Exchange, bool, str] | None:
    """The exchange, whether the caller streams the body, and the URL; the URL is matched
    first, so a call to any other host costs one lookup."""
    url = kwargs["url"] if "url" in kwargs else args[1] if len(args) > 1 else None
    if not isinstance(url, str | bytes):
        return None
    url = url.decode() if isinstance(url, bytes) else url
    method = kwargs["method"] if "method" in kwargs else args[0]
    call = _SIGNATURE.bind(session, *args, **kwargs).arguments
    exchange = begin(url, str(method), _request_json(call.get("json"), call.get("data")))
    return None if exchange is None else (exchange, bool(call.get("stream")), url)


def _replay(hit: CachedResponse, url: str) -> requests.Response:
    """A cached response as requests would have returned it, its body already read."""
    response = requests.Response()
    response.status_code = hit.status
    response.reason = HTTPStatus(hit.status).phrase
    response._content = hit.body
    response.headers = CaseInsensitiveDict(
        {"content-type": hit.content_type} if hit.content_type else {}
    )
    response.url = url
    response.encoding = "utf-8"
    response.elapsed = timedelta(0)
    return response


def _request_json(json_argument: Any, data: Any) -> Any:
    if json_argument is not None:
        return json_argument
    if isinstance(data, str | bytes):
        return parse_json(data.encode() if isinstance(data, str) else data)
    return None


@never_raises(None)
def _watch(exchange: Exchange, response: requests.Response, *, streamed: bool) -> None:
    """Finish now if requests read the body, else when the caller's stream ends."""
    if not streamed or response.raw is None:
        exchange.finish(response.status_code, parse_json(response.content or b""))
        return
    reader = BodyReader(
        response.headers.get("content-type"),
        None,  # requests reads through `raw.stream(decode_content=True)`: already decoded
        exchange.api.final_event,
        exchange.api.STREAM_MARKERS,
    )
    tap = BodyTap(reader, functools.partial(exchange.finish, response.status_code))
    response.raw = _TeedRaw(response.raw, tap)
    weakref.finalize(response, tap.end)  # a stream dropped unclosed still ends its call


class _TeedRaw(wrapt.ObjectProxy[Any]):
    """A response's urllib3 `raw` whose `stream()` also feeds a tap.

    requests reads streamed bodies only through `raw.stream(...)` (`iter_content`,
    `iter_lines`, `.content`, `.json()`); everything else passes through to the real object.
    """

    def __init__(self, raw: Any, tap: BodyTap) -> None:
        super().__init__(raw)
        self._self_tap = tap

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        return tee_sync(self.__wrapped__.stream(*args, **kwargs), self._self_tap)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_tap.end()
