"""Perplexity, Exa and Firecrawl calls made with httpx or requests, logged as tool calls.

Every httpx (sync or async) or requests call whose URL is a Perplexity, Exa or Firecrawl route
(their real hosts, plus the routes you configure, such as a proxy or the emulator) becomes one
tool-call span and one row, named by provider and operation (`exa search`, `firecrawl scrape`,
`perplexity responses.create`, ...), with the usage, credits and cost the response reports. That
covers the official SDKs with no code change: `perplexityai` (httpx), `exa-py` and `firecrawl-py`
(requests when sync, httpx when async), and raw HTTP.

Usage::

    import enrichment_logs as el
    from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor

    el.configure("enrichment_logs.duckdb")
    HttpProvidersInstrumentor().instrument()

    exa = Exa(api_key)                   # no logging code from here on
    with el.enrichment_session(lead_id="lead-1", company_id="acme"):
        exa.search("Acme Corp news")     # one row: exa search, cost from costDollars

Under ``opentelemetry-instrument python app.py`` it is loaded from the
`opentelemetry_instrumentor` entry point `enrichment_logs_http`.

What a row holds:

- Cost and usage from the response body: Perplexity `usage.cost.total_cost` (plus tokens and
  tool invocations), Exa `costDollars.total` (plus search type and result, page and summary
  counts), Firecrawl `creditsUsed` (top level, or `data.metadata.creditsUsed` for a scrape; the
  search credits `firecrawl-py` drops are seen here). The Search API is priced per request by the
  `search_type` of the request. An endpoint we do not know is still a row, operation `other`,
  priced only if it reports a cost.
- Streams (Perplexity server-sent events, Exa streamed answers) reach the caller chunk by chunk,
  unbuffered; the usage is read from the final event when the stream ends. A body the client has
  already read is parsed from its bytes; the caller reads it as before.
- A 4xx/5xx response is an `error` row with the status code as `error.type` and the provider's
  message; a connection error or timeout is an `error` row with the exception. The caller gets
  exactly what the library raises without us; a failure inside this instrumentation is logged
  once and never reaches the call.
- Each HTTP attempt is one row: an SDK that retries a 429 leaves an error row and then a success.
- Asynchronous jobs (Firecrawl crawl, batch scrape, extract, agent; Exa research and agent runs)
  are one row from submission to the final status, which carries the credits (see `jobs.py`).
- Inside a tool call that is already current (a function decorated with `@el.tool`, or an
  SDK-level instrumentation), no second row is made: the usage is added to that call.
- Lead, company and session come from the current `enrichment_session`.

Design: hooks or a wrapper. This is built on `opentelemetry-instrumentation-httpx` and
`opentelemetry-instrumentation-requests`, which make the HTTP client spans (standard HTTP
attributes, trace propagation, duration metrics); we add a thin wrapper one level above where
they hook: `httpx.Client.send` / `AsyncClient.send` above their transport wrapper, and
`requests.Session.request` above their `Session.send`. Their `request_hook`/`response_hook` were
the first choice and are not enough: no hook runs for a request that raises (a timeout or a
refused connection would leave no row); the httpx response hook gets the transport's stream and
cannot read the body without taking it from the caller; a hook runs inside the HTTP span, so the
tool call would be the HTTP span's child instead of its parent; and hooks are fixed when an
instrumentor is first instrumented, which `opentelemetry-instrument` does without ours (a second
`instrument(request_hook=...)` is ignored with a warning). The wrapper needs none of their hooks,
so it composes with them in any order: if `opentelemetry-instrument` (or the application) has
already instrumented httpx or requests, those instrumentors are left exactly as they are and their
spans become children of our tool-call spans; if not, `instrument()` instruments them itself, and
`uninstrument()` undoes only what it did. Pass `http_spans=False` to skip them (rows are the
same, without HTTP child spans); `OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=httpx,requests` is
respected too.

Configuration: provider routes (`configure(provider_routes=...)` or
`ENRICHMENT_LOGS_PROVIDER_ROUTES`, see `routes.py`); the content policy of `configure()` decides
whether request and response bodies are stored. OpenAI calls are not logged here: they are logged
at the `openai` SDK's level, whose 3.x versions send through httpx2, which this never sees.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS,
)
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from enrichment_logs.instrumentation.http.jobs import open_jobs
from enrichment_logs.instrumentation.http.patching import Patch
from enrichment_logs.tracing.attribution import attribute_spans_of

__all__ = ["HttpProvidersInstrumentor"]

_log = logging.getLogger("enrichment_logs.instrumentation.http")

_CLIENTS = {
    "httpx": ("enrichment_logs.instrumentation.http.httpx_client", "HTTPXClientInstrumentor"),
    "requests": (
        "enrichment_logs.instrumentation.http.requests_client",
        "RequestsInstrumentor",
    ),
}
"""Each client library: our wrapper module, and the name of its OpenTelemetry instrumentor in
`opentelemetry.instrumentation.<library>`. A library that is not installed is skipped."""


class HttpProvidersInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Logs Perplexity, Exa and Firecrawl calls made with httpx or requests (see the module)."""

    _patches: list[Patch]
    _http_instrumentors: list[Any]

    def instrumentation_dependencies(self) -> Collection[str]:
        """None required: httpx and requests are each instrumented when installed (an
        application using only the Perplexity SDK has no requests)."""
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        self._patches, self._http_instrumentors = [], []
        attribute_spans_of(kwargs.get("tracer_provider"))
        disabled = {
            name.strip()
            for name in os.environ.get(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS, "").split(",")
        }
        for library, (wrapper_module, instrumentor_name) in _CLIENTS.items():
            try:
                patches = importlib.import_module(wrapper_module).PATCHES
            except ImportError:
                continue  # the library is not installed
            for patch in patches:
                patch.apply()
                self._patches.append(patch)
            if kwargs.get("http_spans", True) and library not in disabled:
                self._instrument_http_spans(library, instrumentor_name, kwargs)
        atexit.register(open_jobs.end_all)

    def _instrument_http_spans(
        self, library: str, instrumentor_name: str, kwargs: dict[str, Any]
    ) -> None:
        """Turn on the library's OpenTelemetry instrumentor, unless someone already did."""
        try:
            module = importlib.import_module(f"opentelemetry.instrumentation.{library}")
        except ImportError:
            _log.debug("opentelemetry-instrumentation-%s is not installed", library)
            return
        instrumentor = getattr(module, instrumentor_name)()
        if instrumentor.is_instrumented_by_opentelemetry:
            return
        passed = ("tracer_provider", "meter_provider")
        instrumentor.instrument(**{key: kwargs[key] for key in passed if key in kwargs})
        self._http_instrumentors.append(instrumentor)

    def _uninstrument(self, **kwargs: Any) -> None:
        for patch in self._patches:
            patch.revert()
        for instrumentor in self._http_instrumentors:
            instrumentor.uninstrument()
        self._patches, self._http_instrumentors = [], []
        atexit.unregister(open_jobs.end_all)
        open_jobs.end_all()
