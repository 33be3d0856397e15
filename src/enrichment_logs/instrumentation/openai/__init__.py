"""Log and price every call the `openai` SDK makes: one tool-call span, one `enrichment_logs` row.

`openai` 3.x sends its requests through `httpx2`, which HTTP-level instrumentation does not see,
so this instruments the SDK's methods: sync and async `chat.completions.create` and `.parse`,
`responses.create` and `.parse`, and `embeddings.create` (and so the `.stream()` helpers and
`.with_raw_response`, which call them).

Usage::

    import openai
    import enrichment_logs as el
    from enrichment_logs.instrumentation.openai import OpenAIInstrumentor

    el.configure("enrichment_logs.duckdb")
    OpenAIInstrumentor().instrument()

    client = openai.OpenAI()
    with el.enrichment_session(lead_id="lead-1", company_id="acme"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])  # one row, priced

or with no code change: ``opentelemetry-instrument python app.py`` (entry point
`enrichment_logs_openai` in the `opentelemetry_instrumentor` group).

What a row says:

- **provider**: decided by the host the client sends to (its `base_url`, matched against the
  provider routes), not by the SDK: `OpenAI(base_url="https://api.perplexity.ai/v1")` calling
  the Agent API is a `perplexity` row, priced by Perplexity's reported `usage.cost`. A host no
  route names (a gateway) is logged as `openai`; map it with `ENRICHMENT_LOGS_PROVIDER_ROUTES`.
- **operation**: `chat.completions.create`, `responses.create` or `embeddings.create`
  (`.parse()` is the same API operation); **model**: the requested one, and the response's.
- **usage**: input (including cached and cache-write), cached, cache-write, output (including
  reasoning) and reasoning tokens; `service_tier` and Responses web searches
  (`tool_usage.web_search.num_requests`); Perplexity's reported cost, tool invocations
  (`tool.search_web`, ...), and legacy Sonar's `search_context_size`.
- **errors**: an exception from the SDK (`RateLimitError`, `APITimeoutError`, ...) is an `error`
  row and reaches the caller unchanged. A Responses result whose `status` is `failed` or
  `cancelled` (returned with HTTP 200) is also an `error` row, with its usage.

Streams (`stream=True`, and the `.stream()` helpers, which use it) are logged when they end:
exhausted, failed, closed, left through `with`, or dropped by the caller; the span's
`gen_ai.response.time_to_first_chunk` is the seconds until the first chunk. Chat streams carry
usage only when asked for, so a chat stream without `stream_options={"include_usage": True}` is
sent with it, and the extra usage-only chunk (empty `choices`) is not shown to the caller, whose
`chunk.choices[0]` keeps working. Responses streams need nothing: usage is on the terminal event.
A stream that ends without usage (turned off, interrupted, or a `.with_raw_response` stream,
whose body we do not read) is a row with tokens and cost unknown, never 0.

A call made while a tool call is already current (inside a user's `@el.tool` function, or
between `start_enrichment_log` and its completion) is that call's work: its usage and reported
cost are added to that call, and no second row is written, so nothing is counted twice.

Configuration:

- `ENRICHMENT_LOGS_OPENAI_STREAM_USAGE=false`: do not add `stream_options.include_usage` to chat
  streams (default: add it). Those streams' rows then have no tokens and an unknown cost.
- `ENRICHMENT_LOGS_PROVIDER_ROUTES`: extra `URL=provider` routes (see `routes.py`).
- Content capture follows `enrichment_logs.content`: request and response metadata only,
  unless the user opts in.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from enrichment_logs.tracing.attribution import attribute_spans_of

_INSTRUMENTS: Final = ("openai >= 2.0",)

__all__ = ["OpenAIInstrumentor"]


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the `openai` SDK's chat, responses and embeddings methods; `uninstrument()` undoes
    it. The spans go to the global tracer provider, as every enrichment-logs span does."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        # Imported here: `opentelemetry-instrument` loads this module before it checks that
        # `openai` is installed.
        from enrichment_logs.instrumentation.openai import patch

        attribute_spans_of(kwargs.get("tracer_provider"))

        for endpoint in patch.ENDPOINTS:
            if hasattr(_owner(endpoint), endpoint.method):
                wrap_function_wrapper(
                    endpoint.module,
                    f"{endpoint.owner}.{endpoint.method}",
                    patch.wrapper_for(endpoint),
                )

    def _uninstrument(self, **kwargs: Any) -> None:
        from enrichment_logs.instrumentation.openai import patch

        for endpoint in patch.ENDPOINTS:
            unwrap(_owner(endpoint), endpoint.method)


def _owner(endpoint: Any) -> Any:
    return getattr(importlib.import_module(endpoint.module), endpoint.owner)
