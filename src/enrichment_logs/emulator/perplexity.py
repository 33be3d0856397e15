"""Perplexity: the Agent API (`/v1/agent`, alias `/v1/responses`), the Search API (`/search`), and
the retired Sonar `/chat/completions`, still served so legacy callers can be logged.

Perplexity reports what a call cost in `usage.cost`, and the library prefers that figure to its
own price table, so the emulator computes it from the list prices in providers.md (dated
2026-10): `perplexity/sonar` $0.25 in / $2.50 out / $0.0625 cache read per 1M tokens, web search
$0.0025 per invocation ($0.001 for `search_type: "fast"`). Every Agent API model is priced as
`perplexity/sonar` and every preset resolves to it; a preset searches more the deeper it goes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from enrichment_logs.emulator.responses_format import message_item, stream_events
from enrichment_logs.emulator.state import EmulatorState
from enrichment_logs.emulator.text import (
    WORDS_PER_DELTA,
    chat_prompt,
    chunks,
    page_title,
    page_url,
    seed_of,
    sentence,
    words,
)
from enrichment_logs.emulator.wire import (
    Call,
    Provider,
    Reply,
    Route,
    has_bearer_token,
    json_reply,
    sse_frame,
    status_phrase,
)

MILLION = Decimal(1_000_000)
AGENT_MODEL = "perplexity/sonar"
AGENT_PRICES = (Decimal("0.25"), Decimal("2.50"), Decimal("0.0625"))
"""Input, output and cache-read USD per 1M tokens."""
SEARCH_PRICES = {"fast": Decimal("0.001")}
WEB_SEARCH_PRICE = Decimal("0.0025")
PRESET_SEARCHES = {"fast": 1, "low": 1, "medium": 2, "high": 3, "xhigh": 4}
LEGACY_PRESETS = {
    "fast-search": "fast",
    "pro-search": "low",
    "deep-research": "medium",
    "advanced-deep-research": "high",
}
SEARCH_CONTEXT_TOKENS = 400
"""Input tokens each web search adds: the model reads the results."""
DEFAULT_OUTPUT_TOKENS = 64
DEFAULT_SEARCH_RESULTS = 10
MAX_SEARCH_RESULTS = 20
MAX_REPLY_WORDS = 256
_AGENT_FIELD_NAMES = (
    "background effort input instructions language_preference max_output_tokens max_steps model "
    "models preset previous_response_id profile prompt_cache_key reasoning response_format "
    "service_tier skills step_budget_reminder store stream stream_options temperature "
    "tool_choice tools top_p"
)
AGENT_FIELDS = frozenset(_AGENT_FIELD_NAMES.split())
"""The Agent API rejects any other top-level field with HTTP 400."""

LEGACY_PRICES: Mapping[str, tuple[Decimal, Decimal, Mapping[str, Decimal]]] = {
    "sonar": (
        Decimal(1),
        Decimal(1),
        {"low": Decimal(5), "medium": Decimal(8), "high": Decimal(12)},
    ),
    "sonar-pro": (
        Decimal(3),
        Decimal(15),
        {"low": Decimal(6), "medium": Decimal(10), "high": Decimal(14)},
    ),
    "sonar-reasoning": (
        Decimal(1),
        Decimal(5),
        {"low": Decimal(5), "medium": Decimal(8), "high": Decimal(12)},
    ),
    "sonar-reasoning-pro": (
        Decimal(2),
        Decimal(8),
        {"low": Decimal(6), "medium": Decimal(10), "high": Decimal(14)},
    ),
}
"""Last published Sonar rates: input and output USD per 1M tokens, request fee USD per 1K requests
by `search_context_size`."""
LEGACY_SEARCH_RESULTS = 5


def _error(status: int, message: str) -> dict[str, Any]:
    kind = status_phrase(status).lower().replace(" ", "_")
    return {"error": {"message": message, "type": kind, "code": status}}


def _bad_request(message: str) -> Reply:
    return json_reply(_error(400, message), 400)


def _usd(amount: Decimal) -> float:
    return float(round(amount, 9))


def _results(query: str, count: int) -> list[dict[str, Any]]:
    """Ranked web results in the Search API's shape, stable for a query."""
    results = []
    for index in range(count):
        day = seed_of(query, index) % 28 + 1
        results.append(
            {
                "title": page_title(query, index),
                "url": page_url(query, index),
                "snippet": sentence(24, "snippet", query, index),
                "date": f"2026-10-{day:02d}",
                "last_updated": f"2026-11-{day:02d}",
            }
        )
    return results


def search(call: Call, state: EmulatorState) -> Reply:
    query = call.field("query")
    queries = [query] if isinstance(query, str) else query
    if not isinstance(queries, list) or not queries or not all(isinstance(q, str) for q in queries):
        return _bad_request("'query' must be a string or a list of strings.")
    count = call.field("max_results", DEFAULT_SEARCH_RESULTS)
    if not isinstance(count, int) or not 1 <= count <= MAX_SEARCH_RESULTS:
        return _bad_request(f"'max_results' must be between 1 and {MAX_SEARCH_RESULTS}.")
    results = [result for each in queries for result in _results(each, count)]
    server_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json_reply({"id": state.new_uuid(), "results": results, "server_time": server_time})


def _searches(call: Call, preset: str | None) -> tuple[int, Decimal]:
    """How many web searches the request's tools and preset cause, and their total price."""
    count, price = 0, Decimal(0)
    for tool in call.field("tools", []):
        if isinstance(tool, dict) and tool.get("type") == "web_search":
            count += 1
            price += SEARCH_PRICES.get(str(tool.get("search_type")), WEB_SEARCH_PRICE)
    if preset is not None:
        count += PRESET_SEARCHES[preset]
        price += PRESET_SEARCHES[preset] * WEB_SEARCH_PRICE
    return count, price


def _agent_usage(
    *,
    input_tokens: int,
    cached: int,
    written: int,
    output_tokens: int,
    searches: int,
    search_cost: Decimal,
) -> dict[str, Any]:
    """Agent API usage with its `cost`; optional cost parts appear only when non-zero."""
    input_price, output_price, cache_read_price = AGENT_PRICES
    parts = {
        "input_cost": (input_tokens - cached) * input_price / MILLION,
        "output_cost": output_tokens * output_price / MILLION,
        "cache_read_cost": cached * cache_read_price / MILLION,
        "tool_calls_cost": search_cost,
    }
    always = ("input_cost", "output_cost")
    cost: dict[str, Any] = {"currency": "USD"}
    cost |= {name: _usd(amount) for name, amount in parts.items() if amount or name in always}
    cost["total_cost"] = _usd(sum(parts.values(), Decimal(0)))
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_tokens_details": {
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": cached,
        },
        "cost": cost,
    }
    if searches:
        usage["tool_calls_details"] = {"search_web": {"invocation": searches}}
    return usage


def agent(call: Call, state: EmulatorState) -> Reply:
    if not isinstance(call.body, dict) or not call.field("input"):
        return _bad_request("'input' is required.")
    unknown = sorted(set(call.body) - AGENT_FIELDS)
    if unknown:
        return _bad_request(f"Unknown field(s): {', '.join(unknown)}.")
    chosen = call.field("effort", call.field("preset"))
    preset = LEGACY_PRESETS.get(chosen, chosen) if chosen is not None else None
    if preset is not None and preset not in PRESET_SEARCHES:
        return _bad_request(f"Unknown preset: {chosen}.")
    model = str(call.field("model", AGENT_MODEL))
    given = call.field("input")
    items = [call.field("instructions")] if call.field("instructions") else []
    prompt, prompt_tokens = chat_prompt(items + (given if isinstance(given, list) else [given]))
    searches, search_cost = _searches(call, preset)
    cache = state.prompt_cache.lookup(
        f"perplexity\x1f{model}\x1f{call.field('prompt_cache_key', '')}", prompt
    )
    cached = min(cache.read, prompt_tokens)
    input_tokens = prompt_tokens + searches * SEARCH_CONTEXT_TOKENS
    limit = call.field("max_output_tokens")
    output_tokens = limit if isinstance(limit, int) and limit > 0 else DEFAULT_OUTPUT_TOKENS
    usage = _agent_usage(
        input_tokens=input_tokens,
        cached=cached,
        written=min(cache.written, prompt_tokens - cached),
        output_tokens=output_tokens,
        searches=searches,
        search_cost=search_cost,
    )
    reply = words(min(output_tokens, MAX_REPLY_WORDS), "agent", prompt)
    output: list[dict[str, Any]] = []
    if searches:
        found = [{"id": index + 1, **result} for index, result in enumerate(_results(prompt, 5))]
        output.append({"type": "search_results", "queries": [prompt[:200]], "results": found})
    output.append(message_item(state.new_id("msg_", 32), " ".join(reply)))
    started: dict[str, Any] = {
        "id": state.new_id("resp_", 32),
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "in_progress",
        "output": [],
        "error": None,
        "preset": preset,
        "service_tier": call.field("service_tier"),
        "prompt_cache_key": call.field("prompt_cache_key"),
        "usage": None,
    }
    completed = {**started, "status": "completed", "output": output, "usage": usage}
    if call.field("stream") is not True:
        return json_reply(completed)
    options = call.field("stream_options", {})
    if isinstance(options, dict) and options.get("include_usage") is False:
        completed["usage"] = None
    events = stream_events(started, completed, reply, content_parts=False)
    return Reply(200, frames=[sse_frame(event) for event in events])


def _sonar_choice(text: str, delta: str, finish_reason: str | None) -> dict[str, Any]:
    """Sonar sends the text so far as `message` and the new piece as `delta`, in every choice."""
    return {
        "index": 0,
        "finish_reason": finish_reason,
        "message": {"role": "assistant", "content": text},
        "delta": {"role": "assistant", "content": delta},
    }


def legacy_chat(call: Call, state: EmulatorState) -> Reply:
    """Sonar Chat Completions, with the Sonar `usage.cost`. Streamed chunks each carry usage, with
    a zero-cost placeholder (without `request_cost`) until the last one."""
    model, messages = call.field("model"), call.field("messages")
    if model not in LEGACY_PRICES or not isinstance(messages, list) or not messages:
        return _bad_request(f"Invalid model '{model}' or missing 'messages'.")
    input_price, output_price, request_fees = LEGACY_PRICES[model]
    options = call.field("web_search_options", {})
    size = options.get("search_context_size", "low") if isinstance(options, dict) else "low"
    if size not in request_fees:
        return _bad_request(f"Invalid search_context_size '{size}'.")
    prompt, prompt_tokens = chat_prompt(messages)
    limit = call.field("max_tokens")
    output_tokens = limit if isinstance(limit, int) and limit > 0 else DEFAULT_OUTPUT_TOKENS
    parts = {
        "input_tokens_cost": prompt_tokens * input_price / MILLION,
        "output_tokens_cost": output_tokens * output_price / MILLION,
        "request_cost": request_fees[size] / 1000,
    }
    cost = {name: _usd(amount) for name, amount in parts.items()}
    cost["total_cost"] = _usd(sum(parts.values(), Decimal(0)))
    found = _results(prompt, LEGACY_SEARCH_RESULTS)
    reply = words(min(output_tokens, MAX_REPLY_WORDS), "sonar", prompt)
    head = {
        "id": state.new_uuid(),
        "model": model,
        "created": int(time.time()),
        "citations": [result["url"] for result in found],
        "search_results": [{**result, "source": "web"} for result in found],
    }

    def usage(completion_tokens: int, cost: dict[str, float]) -> dict[str, Any]:
        total_tokens = prompt_tokens + completion_tokens
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": total_tokens,
            "search_context_size": size,
            "cost": cost,
        }

    text = " ".join(reply)
    last = _sonar_choice(text, "", "stop")
    if call.field("stream") is not True:
        body = {**head, "object": "chat.completion", "choices": [last]}
        return json_reply({**body, "usage": usage(output_tokens, cost)})
    zero = {"input_tokens_cost": 0.0, "output_tokens_cost": 0.0, "total_cost": 0.0}
    frames, so_far = [], ""
    for index, piece in enumerate(chunks(reply)):
        so_far += piece
        interim = usage(min(output_tokens, (index + 1) * WORDS_PER_DELTA), zero)
        choice = _sonar_choice(so_far, piece, None)
        chunk = {**head, "object": "chat.completion.chunk", "choices": [choice], "usage": interim}
        frames.append(sse_frame(chunk))
    chunk = {**head, "object": "chat.completion.chunk", "choices": [last]}
    frames.append(sse_frame({**chunk, "usage": usage(output_tokens, cost)}))
    return Reply(200, frames=frames)


PROVIDER = Provider(
    name="perplexity",
    routes=(
        Route("POST", "/v1/agent", agent),
        Route("POST", "/v1/responses", agent),
        Route("POST", "/search", search),
        Route("POST", "/chat/completions", legacy_chat),
    ),
    error=_error,
    authorized=has_bearer_token,
)
