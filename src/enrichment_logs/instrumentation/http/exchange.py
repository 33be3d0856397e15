"""The life cycle of one HTTP call to a provider, written once for httpx and requests.

`begin()` decides, before the request is sent, what the call is: nothing to us (another host, or
a provider without an API module here), a new tool call (its span is made current while the
request is sent, so the HTTP client span is its child), or part of a tool call that is already
current (a user's `@tool`, or an SDK-level instrumentation), which then receives the usage and no
second row is made. `finish()` reads what the response reports and ends the call: a 4xx/5xx is an
error row whose `error.type` is the status code; a connection error or timeout is an error row
with the exception.

Every method is guarded: whatever goes wrong here is logged once and the caller's call goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.url_attributes import URL_PATH
from opentelemetry.trace import Status, StatusCode

from enrichment_logs import content, semconv
from enrichment_logs.guards.request_hash import request_hash
from enrichment_logs.instrumentation.http import exa, firecrawl, perplexity
from enrichment_logs.instrumentation.http.api import Endpoint, ProviderApi, obj
from enrichment_logs.instrumentation.http.jobs import open_jobs
from enrichment_logs.instrumentation.http.safety import never_raises
from enrichment_logs.instrumentation.routes import current_routes
from enrichment_logs.pricing.usage import Usage
from enrichment_logs.tracing.tool_call import ERROR_MESSAGE_MAX_CHARS, ToolCall, current_call

APIS: Mapping[str, ProviderApi] = {"perplexity": perplexity, "exa": exa, "firecrawl": firecrawl}
"""Providers logged at the HTTP level. OpenAI is logged at its SDK's level (`openai` 3.x sends
through httpx2, which these hooks never see)."""


class Exchange:
    """One request to a provider and its response, seen from the client's send."""

    def __init__(
        self, provider: str, api: ProviderApi, method: str, path: str, request: Any
    ) -> None:
        self.api = api
        self.provider = provider
        self.endpoint: Endpoint = api.endpoint(method, path)
        self.request = request
        self._attributes: dict[str, str | int] = {HTTP_REQUEST_METHOD: method, URL_PATH: path}
        self.attached = current_call()
        self.request_hash = (
            request_hash(provider, f"{method} {path}", request)
            if request is not None and self.attached is None
            else None
        )
        """Identifies identical requests (the row's `request_hash`, the cache's key)."""
        self.call: ToolCall | None = None
        if self.attached is None and self.endpoint.job != "status":
            self.call = self._start_call()

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """While the request is sent, our call is the current call and span."""
        if self.call is None:
            yield
            return
        with self.call.activate():
            yield

    @never_raises(None)
    def failed(self, error: BaseException) -> None:
        """The request raised (connection error, timeout, cancelled): an error row."""
        if self.attached is not None:
            return  # the caller's tool call sees the exception and ends itself
        (self.call or self._start_call()).fail(error)

    @never_raises(None)
    def finish(self, status_code: int, body: Any, error: BaseException | None = None) -> None:
        """The response arrived and its body (parsed JSON, or None) was read, or broke."""
        self._attributes[HTTP_RESPONSE_STATUS_CODE] = status_code
        if self.call is not None:
            self.call.set_attribute(HTTP_RESPONSE_STATUS_CODE, status_code)
        if error is not None:
            self.failed(error)
        elif status_code >= 400:
            self._http_error(status_code, body)
        elif self.endpoint.job == "status":
            self._job_status(body)
        else:
            self._success(body)

    def _start_call(self) -> ToolCall:
        given = {} if self.request is None else {"request": self.request}
        call = ToolCall(self.provider, self.endpoint.operation, **given)
        for key, value in self._attributes.items():
            call.set_attribute(key, value)
        if self.request_hash is not None:
            call.set_attribute(semconv.REQUEST_HASH, self.request_hash)
        return call

    def _success(self, body: Any) -> None:
        usage, failure, job_id = self._read(body)
        if self.attached is not None:
            self.attached.record_usage(usage)
            return
        assert self.call is not None
        self.call.record_usage(usage)
        if job_id is not None:
            open_jobs.hold((self.provider, job_id), self.call)  # ends with the final status
            return
        _end(self.call, body, failure)

    def _job_status(self, body: Any) -> None:
        """A poll: free, so not a row, unless it reports the job finished (see `jobs.py`)."""
        if not self.api.job_finished(body):
            return
        assert self.endpoint.job_id is not None
        held, first = open_jobs.finish((self.provider, self.endpoint.job_id))
        if held is None and not first:
            return  # billed on an earlier poll
        usage, failure, _ = self._read(body)
        if held is None and self.attached is not None:
            self.attached.record_usage(usage)
            return
        call = held or self._start_call()
        call.record_usage(usage)
        _end(call, body, failure)

    @never_raises((Usage(), None, None))
    def _read(self, body: Any) -> tuple[Usage, str | None, str | None]:
        """Usage, failure and job id from the body; a bug here costs the row its usage only."""
        job_id = self.api.job_id(body) if self.endpoint.job == "start" else None
        usage = self.api.usage(self.endpoint, self.request, body)
        return usage, self.api.failure(self.endpoint, body), job_id

    def _http_error(self, status_code: int, body: Any) -> None:
        if self.attached is not None:
            return
        call = self.call or self._start_call()
        message = content.current_policy().error_message(
            _error_message(status_code, body)[:ERROR_MESSAGE_MAX_CHARS]
        )
        call.set_attribute(semconv.ERROR_TYPE, str(status_code))
        call.set_attribute(semconv.ERROR_MESSAGE, message)
        call.span.set_status(Status(StatusCode.ERROR, message))
        call.end("error")


@never_raises(None)
def begin(url: str, method: str, request: Any) -> Exchange | None:
    """The exchange for a request to a provider we log at this level, else None."""
    route = current_routes().match(url)
    api = APIS.get(route.provider) if route is not None else None
    if route is None or api is None:
        return None
    return Exchange(route.provider, api, method.upper(), route.path, request)


def _end(call: ToolCall, body: Any, failure: str | None) -> None:
    if failure is None:
        call.succeed(response=body)
    else:
        call.fail(failure)


def _error_message(status_code: int, body: Any) -> str:
    """`HTTP 429 Too Many Requests: <the provider's own message>`."""
    error = obj(body).get("error")
    detail = obj(error).get("message") if isinstance(error, Mapping) else error
    detail = detail or obj(body).get("message") or obj(body).get("detail")
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = ""
    head = f"HTTP {status_code} {phrase}".rstrip()
    return f"{head}: {detail}" if detail else head
