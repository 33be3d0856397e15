"""Usage from what the `openai` SDK returns: chat completions, Responses and embeddings.

The same endpoints are served by OpenAI, by Perplexity (Agent API at `/v1/responses`, legacy
Sonar at `/chat/completions`) and by OpenAI-compatible gateways, each with its own extra usage
fields. Rather than branch on the provider, every reader takes whatever fields are present: an
OpenAI response has no `usage.cost`, a Perplexity one has no `prompt_tokens_details`. Fields the
SDK's types do not declare (Perplexity's) arrive as plain dicts, and responses fetched through
`.with_raw_response` are read as parsed JSON, so every field is read with `field()`, which takes
objects and mappings alike. Values are checked by `Usage.parse`, so a gateway's odd value becomes
an unusable-value note on the row, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from enrichment_logs.pricing.usage import Usage

Kind = Literal["chat", "responses", "embeddings"]
"""The response shape of an endpoint: Chat Completions, Responses, or Embeddings."""

FAILED_STATUSES = frozenset({"failed", "cancelled"})
"""Responses that come back with HTTP 200 but did not complete (Perplexity bills them too)."""


def field(value: object, name: str) -> object:
    """`value.name` or `value[name]`; None when absent (the SDK builds partial models).

    Runs about fifteen times per call on the caller's thread, so a pydantic model is read from
    its `__dict__` and its extras directly: `getattr` on a field the model lacks costs a raised
    and caught AttributeError inside pydantic.
    """
    if value is None:
        return None
    if type(value) is dict:
        return value.get(name)
    attributes = getattr(value, "__dict__", None)
    if attributes is not None and name in attributes:
        return attributes[name]
    extra = getattr(value, "__pydantic_extra__", None)
    if isinstance(extra, dict):
        return extra.get(name)
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def usage_of(kind: Kind, response: object) -> Usage:
    """The usage of a whole response (or of a chat chunk, which has the same fields)."""
    if kind == "responses":
        return responses_usage(response)
    return chat_usage(response)


def chat_usage(completion: object) -> Usage:
    """Chat Completions and Embeddings (`prompt_tokens`, ...), plus legacy Sonar's cost fields."""
    usage = field(completion, "usage")
    prompt = field(usage, "prompt_tokens_details")
    return Usage.parse(
        model=field(completion, "model"),
        input_tokens=field(usage, "prompt_tokens"),
        cached_input_tokens=field(prompt, "cached_tokens"),
        cache_write_tokens=field(prompt, "cache_write_tokens"),
        output_tokens=field(usage, "completion_tokens"),
        reasoning_tokens=field(field(usage, "completion_tokens_details"), "reasoning_tokens"),
        reported_cost=field(field(usage, "cost"), "total_cost"),
        extra={
            "service_tier": field(completion, "service_tier"),
            # Legacy Sonar: the request fee depends on the search context size.
            "search_context_size": field(usage, "search_context_size"),
            "num_search_queries": field(usage, "num_search_queries"),
            "citation_tokens": field(usage, "citation_tokens"),
        },
    )


def responses_usage(response: object) -> Usage:
    """The Responses API, OpenAI's or Perplexity's Agent API (cache fields, tools and cost)."""
    usage = field(response, "usage")
    details = field(usage, "input_tokens_details")
    cached = field(details, "cached_tokens")
    written = field(details, "cache_write_tokens")
    extra: dict[str, object] = {
        "service_tier": field(response, "service_tier"),
        "web_search_calls": field(
            field(field(response, "tool_usage"), "web_search"), "num_requests"
        ),
    }
    tools = field(usage, "tool_calls_details")
    if isinstance(tools, Mapping):
        extra |= {f"tool.{name}": field(tool, "invocation") for name, tool in tools.items()}
    return Usage.parse(
        model=field(response, "model"),
        input_tokens=field(usage, "input_tokens"),
        cached_input_tokens=field(details, "cache_read_input_tokens") if cached is None else cached,
        cache_write_tokens=(
            field(details, "cache_creation_input_tokens") if written is None else written
        ),
        output_tokens=field(usage, "output_tokens"),
        reasoning_tokens=field(field(usage, "output_tokens_details"), "reasoning_tokens"),
        reported_cost=field(field(usage, "cost"), "total_cost"),
        extra=extra,
    )


def failure_of(kind: Kind, response: object) -> str | None:
    """Why a Responses result that came back with HTTP 200 failed, or None when it did not."""
    if kind != "responses":
        return None
    status = field(response, "status")
    if status not in FAILED_STATUSES:
        return None
    message = field(field(response, "error"), "message")
    return f"response {status}: {message}" if isinstance(message, str) else f"response {status}"


def request_extra(request: Mapping[str, object]) -> Usage:
    """Pricing inputs only the request says: the Perplexity web search tool's `search_type`."""
    tools = request.get("tools")
    if not isinstance(tools, list | tuple):
        return Usage()
    search_types = [field(tool, "search_type") for tool in tools]
    search_type = next((kind for kind in search_types if isinstance(kind, str)), None)
    return Usage.parse(extra={"search_type": search_type})
