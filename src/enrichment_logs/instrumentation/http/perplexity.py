"""Perplexity: the Agent API, the Search API, embeddings and the retired Sonar chat completions.

Perplexity reports what a call cost in `usage.cost.total_cost`; that is the row's cost. Tokens and
tool invocations are recorded too (`tool.search_web`, ...), so the cost engine can price the call
when the cost is missing, and the Search API, which reports no usage, is priced per request by
the `search_type` the request asked for.
"""

from __future__ import annotations

from typing import Any

from enrichment_logs.instrumentation.http.api import OTHER, Endpoint, dig, items, obj
from enrichment_logs.pricing.usage import ExtraValue, Usage

STREAM_MARKERS = (b'"usage"',)
_OPERATIONS = {
    "/v1/agent": "responses.create",
    "/v1/responses": "responses.create",
    "/search": "search",
    "/chat/completions": "chat.completions.create",
    "/v1/chat/completions": "chat.completions.create",
    "/v1/embeddings": "embeddings.create",
    "/v1/contextualizedembeddings": "embeddings.create",
}
_TERMINAL_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "response.cancelled"}
)
_FAILED_RUNS = frozenset({"failed", "cancelled"})


def endpoint(method: str, path: str) -> Endpoint:
    operation = _OPERATIONS.get(path.rstrip("/")) if method == "POST" else None
    return Endpoint(operation or OTHER)


def usage(endpoint: Endpoint, request: Any, response: Any) -> Usage:
    if endpoint.operation == "search":
        return Usage.parse(extra={"search_type": obj(request).get("search_type") or "web"})
    if endpoint.operation == "responses.create":
        return _agent_usage(request, response)
    counts = obj(obj(response).get("usage"))
    return Usage.parse(
        model=obj(response).get("model"),
        input_tokens=counts.get("prompt_tokens"),
        output_tokens=counts.get("completion_tokens"),
        reasoning_tokens=counts.get("reasoning_tokens"),
        reported_cost=dig(counts, "cost", "total_cost"),
        extra={"search_context_size": counts.get("search_context_size")},
    )


def _agent_usage(request: Any, response: Any) -> Usage:
    """Responses-format usage; tool calls are billed per invocation under their billing names."""
    counts = obj(obj(response).get("usage"))
    details = obj(counts.get("input_tokens_details"))
    extra: dict[str, ExtraValue | None] = {
        f"tool.{name}": obj(tool).get("invocation")
        for name, tool in obj(counts.get("tool_calls_details")).items()
    }
    search_types = [
        tool.get("search_type")
        for tool in map(obj, items(obj(request).get("tools")))
        if tool.get("type") == "web_search" and tool.get("search_type")
    ]
    if search_types:  # the response does not say which kind of search ran; the request does
        extra["search_type"] = search_types[0]
    return Usage.parse(
        model=obj(response).get("model"),
        input_tokens=counts.get("input_tokens"),
        output_tokens=counts.get("output_tokens"),
        cached_input_tokens=details.get("cache_read_input_tokens"),
        cache_write_tokens=details.get("cache_creation_input_tokens"),
        reasoning_tokens=dig(counts, "output_tokens_details", "reasoning_tokens"),
        reported_cost=dig(counts, "cost", "total_cost"),
        extra=extra,
    )


def final_event(event: Any) -> Any:
    """The Agent API's terminal event holds the whole response; Sonar's last chunk holds the
    final usage (earlier chunks carry a zero-cost placeholder), so the last one seen wins."""
    event = obj(event)
    if event.get("type") in _TERMINAL_EVENTS:
        return event.get("response")
    if event.get("object") == "chat.completion.chunk" and event.get("usage"):
        return event
    return None


def failure(endpoint: Endpoint, response: Any) -> str | None:
    """Failed and cancelled Agent API runs come back as HTTP 200 with their status."""
    status = obj(response).get("status")
    if endpoint.operation != "responses.create" or status not in _FAILED_RUNS:
        return None
    return str(dig(response, "error", "message") or f"the run {status}")


def job_id(response: Any) -> str | None:
    return None


def job_finished(response: Any) -> bool:
    return False
