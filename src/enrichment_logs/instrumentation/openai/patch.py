"""The wrappers around the SDK's methods: each logical call is one tool call, priced.

A wrapper sees the call's keyword arguments and the parsed result, once per logical call (the
SDK's retries happen inside it). It decides the provider from the client's `base_url`, adds
`stream_options.include_usage` to chat streams that lack it, sends the call with the tool call
current, and reads usage from the result, or hands a stream to `streams.py`. The caller gets the
SDK's own result, stream or exception; anything of ours that fails is logged once and skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from openai import AsyncStream, Stream
from openai._constants import RAW_RESPONSE_HEADER
from openai._legacy_response import LegacyAPIResponse

from enrichment_logs.guards import retry as retries
from enrichment_logs.instrumentation.openai.guarded import guard
from enrichment_logs.instrumentation.openai.recording import Recording, report_failure
from enrichment_logs.instrumentation.openai.streams import (
    ChatChunks,
    InstrumentedAsyncStream,
    InstrumentedStream,
    Outcome,
    ResponseEvents,
    StreamObserver,
)
from enrichment_logs.instrumentation.openai.usage import (
    Kind,
    failure_of,
    request_extra,
    usage_of,
)
from enrichment_logs.instrumentation.routes import current_routes

STREAM_USAGE_VARIABLE: Final = "ENRICHMENT_LOGS_OPENAI_STREAM_USAGE"
FALLBACK_PROVIDER: Final = "openai"
"""The provider of a host no route names: an OpenAI-compatible gateway bills like OpenAI."""
STREAMS_USAGE_BY_DEFAULT: Final = frozenset({"perplexity"})
"""Providers whose chat streams carry usage unasked; nothing is added to their requests."""
_OFF: Final = frozenset({"0", "false", "no", "off"})

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One SDK method we wrap, and how its calls are logged."""

    module: str
    owner: str
    """The resource class in `module` (`Completions`, `AsyncResponses`, ...)."""
    method: str
    operation: str
    """The row's operation: the API operation, so `.parse()` counts with `.create()`."""
    kind: Kind
    path: str
    """The endpoint below the client's `base_url`, for routing by URL prefix."""

    @property
    def is_async(self) -> bool:
        """The SDK names its async resources `Async...`; their methods are not all coroutine
        functions to `inspect` (`@required_args` wraps them in a plain function)."""
        return self.owner.startswith("Async")


_CHAT: Final = "openai.resources.chat.completions.completions"
_RESPONSES: Final = "openai.resources.responses.responses"
_EMBEDDINGS: Final = "openai.resources.embeddings"
_CHAT_CREATE: Final = "chat.completions.create"
_RESPONSES_CREATE: Final = "responses.create"

ENDPOINTS: Final = (
    Endpoint(_CHAT, "Completions", "create", _CHAT_CREATE, "chat", "chat/completions"),
    Endpoint(_CHAT, "Completions", "parse", _CHAT_CREATE, "chat", "chat/completions"),
    Endpoint(_CHAT, "AsyncCompletions", "create", _CHAT_CREATE, "chat", "chat/completions"),
    Endpoint(_CHAT, "AsyncCompletions", "parse", _CHAT_CREATE, "chat", "chat/completions"),
    Endpoint(_RESPONSES, "Responses", "create", _RESPONSES_CREATE, "responses", "responses"),
    Endpoint(_RESPONSES, "Responses", "parse", _RESPONSES_CREATE, "responses", "responses"),
    Endpoint(_RESPONSES, "AsyncResponses", "create", _RESPONSES_CREATE, "responses", "responses"),
    Endpoint(_RESPONSES, "AsyncResponses", "parse", _RESPONSES_CREATE, "responses", "responses"),
    Endpoint(_EMBEDDINGS, "Embeddings", "create", "embeddings.create", "embeddings", "embeddings"),
    Endpoint(
        _EMBEDDINGS, "AsyncEmbeddings", "create", "embeddings.create", "embeddings", "embeddings"
    ),
)
"""Every SDK method wrapped; a method the installed SDK lacks is skipped."""


def stream_usage_enabled() -> bool:
    """Whether chat streams get `stream_options.include_usage` added when the caller has none
    (`ENRICHMENT_LOGS_OPENAI_STREAM_USAGE=false` turns it off; such streams then cost unknown)."""
    return os.environ.get(STREAM_USAGE_VARIABLE, "").strip().lower() not in _OFF


def wrapper_for(endpoint: Endpoint) -> Wrapper:
    """The `wrapt` wrapper of the endpoint's method, an async one for an async resource."""
    return _async_wrapper(endpoint) if endpoint.is_async else _sync_wrapper(endpoint)


@dataclass(slots=True)
class _Invocation:
    """One call in flight: where it is recorded, what is sent, and how its stream is read."""

    endpoint: Endpoint
    recording: Recording
    kwargs: dict[str, Any]
    hide_usage_chunk: bool
    started: float

    def completed(self, result: Any, stream_type: type[Any]) -> Any:
        """Log a returned result; a stream is returned wrapped, to be logged when it ends."""
        if isinstance(result, stream_type):
            try:
                observer = StreamObserver(self.recording, self._outcome(), self.started)
                proxy = InstrumentedStream if stream_type is Stream else InstrumentedAsyncStream
                return proxy(result, observer)
            except Exception:
                report_failure("wrap stream")
                self.recording.finish(None)
                return result
        kind = self.endpoint.kind
        try:
            body = _body(result)
            usage, failure = usage_of(kind, body), failure_of(kind, body)
        except Exception:
            report_failure("read usage")
            usage, failure = None, None
        self.recording.finish(usage, result, failure)
        return result

    def _outcome(self) -> Outcome:
        if self.endpoint.kind == "responses":
            return ResponseEvents()
        return ChatChunks(hide_usage_chunk=self.hide_usage_chunk)


def _begin(endpoint: Endpoint, resource: Any, kwargs: dict[str, Any]) -> _Invocation | None:
    """Start recording a call; None (the call goes out untouched) if our code fails."""
    try:
        started = time.perf_counter()
        provider = _provider_of(resource, endpoint.path)
        sent, hide = kwargs, False
        if endpoint.kind == "chat" and kwargs.get("stream") is True:
            sent, hide = _with_stream_usage(provider, kwargs)
        model = kwargs.get("model")
        extra = request_extra(kwargs)
        recording = Recording.start(
            provider, endpoint.operation, model if isinstance(model, str) else None, kwargs
        )
        if extra.extra:
            recording.record(extra)
        return _Invocation(endpoint, recording, sent, hide, started)
    except Exception:
        report_failure("start call")
        return None


def _provider_of(resource: Any, path: str) -> str:
    """The provider of the host the client sends to: `OpenAI(base_url=<Perplexity>)` is
    Perplexity; a host no route names is an OpenAI-compatible gateway."""
    route = current_routes().match_joined(resource._client.base_url, path)
    return FALLBACK_PROVIDER if route is None else route.provider


def _with_stream_usage(provider: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The arguments to send, asking for the usage chunk the caller did not ask for, and
    whether that chunk must then be hidden from the caller."""
    options = kwargs.get("stream_options")
    asked = isinstance(options, Mapping) and options.get("include_usage") is True
    headers = kwargs.get("extra_headers")
    # A raw response's body reaches the caller as is: the extra chunk could not be hidden.
    raw = isinstance(headers, Mapping) and RAW_RESPONSE_HEADER in headers
    if asked or raw or provider in STREAMS_USAGE_BY_DEFAULT or not stream_usage_enabled():
        return kwargs, False
    kept = dict(options) if isinstance(options, Mapping) else {}
    return {**kwargs, "stream_options": {**kept, "include_usage": True}}, True


def _body(result: Any) -> Any:
    """The response to read usage from: `.with_raw_response` gives the HTTP response, whose
    JSON is read (already in memory) rather than parsed, so the caller's `.parse()` is as is."""
    if not isinstance(result, LegacyAPIResponse):
        return result
    response = result.http_response
    if "json" not in response.headers.get("content-type", ""):
        return None  # a raw stream: its body is the caller's to read
    return response.json()


def _sync_wrapper(endpoint: Endpoint) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        invocation = _begin(endpoint, instance, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        retry = guard(invocation.recording, instance)  # may refuse the call
        with invocation.recording.activate():
            try:
                if retry is None:
                    result = wrapped(*args, **invocation.kwargs)
                else:
                    call, sent = invocation.recording.call, invocation.kwargs
                    result = retries.run(retry, call, lambda: wrapped(*args, **sent))
            except BaseException as error:
                invocation.recording.fail(error)
                raise
        return invocation.completed(result, Stream)

    return wrapper


def _async_wrapper(endpoint: Endpoint) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Awaitable[Any]],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        invocation = _begin(endpoint, instance, kwargs)
        if invocation is None:
            return await wrapped(*args, **kwargs)
        retry = guard(invocation.recording, instance)  # may refuse the call
        with invocation.recording.activate():
            try:
                if retry is None:
                    result = await wrapped(*args, **invocation.kwargs)
                else:
                    call, sent = invocation.recording.call, invocation.kwargs
                    result = await retries.run_async(retry, call, lambda: wrapped(*args, **sent))
            except BaseException as error:
                invocation.recording.fail(error)
                raise
        return invocation.completed(result, AsyncStream)

    return wrapper
