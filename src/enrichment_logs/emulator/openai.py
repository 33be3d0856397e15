"""OpenAI's Chat Completions, Responses and Embeddings, as the `openai` 3.x SDK parses them.

Usage is what the library prices, so it carries every field a real response does: cached input
(from `PromptCache`), cache writes for the models that bill them, reasoning tokens for reasoning
models, and the `service_tier` the request was served on.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
import time
from dataclasses import dataclass
from typing import Any

from enrichment_logs.emulator.responses_format import message_item, stream_events
from enrichment_logs.emulator.state import EmulatorState
from enrichment_logs.emulator.text import chat_prompt, chunks, seed_of, tokens_in, words
from enrichment_logs.emulator.wire import (
    DONE_FRAME,
    Call,
    Provider,
    Reply,
    Route,
    has_bearer_token,
    json_reply,
    sse_frame,
)

SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
    "o3": "o3-2025-04-16",
    "o4-mini": "o4-mini-2025-04-16",
}
"""The dated snapshot a real response names for an alias; other names are echoed."""
REASONING_PREFIXES = ("o", "gpt-5")
CACHE_WRITE_PREFIXES = ("gpt-5.6", "gpt-6")
"""Models whose prompt-cache writes are billed, and so reported."""
DEFAULT_OUTPUT_TOKENS = 64
MAX_REPLY_WORDS = 256
EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}
DEFAULT_EMBEDDING_DIMENSIONS = 1536


@dataclass(frozen=True, slots=True)
class _Usage:
    input: int
    cached: int
    cache_write: int
    output: int
    reasoning: int

    @property
    def text_output(self) -> int:
        return self.output - self.reasoning


def _error(status: int, message: str) -> dict[str, Any]:
    kind = {
        400: ("invalid_request_error", None),
        401: ("invalid_request_error", "invalid_api_key"),
        404: ("invalid_request_error", None),
        429: ("requests", "rate_limit_exceeded"),
    }.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind[0], "param": None, "code": kind[1]}}


def _bad_request(message: str) -> Reply:
    return json_reply(_error(400, message), 400)


def _served_tier(requested: Any) -> str:
    """`auto` (and no tier) is served as `default`, `fast` as `priority`; others are echoed."""
    if requested in (None, "auto"):
        return "default"
    return "priority" if requested == "fast" else str(requested)


def _fingerprint(model: str) -> str:
    return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


def _usage(
    call: Call, state: EmulatorState, prompt: str, prompt_tokens: int, limit: Any, effort: Any
) -> _Usage:
    """Input from the prompt, output from the request's token limit (or a default)."""
    model = str(call.field("model", ""))
    scope = f"openai\x1f{model}\x1f{call.field('prompt_cache_key', '')}"
    cache = state.prompt_cache.lookup(scope, prompt)
    cached = min(cache.read, prompt_tokens)
    written = min(cache.written, prompt_tokens - cached)
    output = limit if isinstance(limit, int) and limit > 0 else DEFAULT_OUTPUT_TOKENS
    reasons = model.startswith(REASONING_PREFIXES) and effort not in ("none", "minimal")
    return _Usage(
        input=prompt_tokens,
        cached=cached,
        cache_write=written if model.startswith(CACHE_WRITE_PREFIXES) else 0,
        output=output,
        reasoning=output // 2 if reasons else 0,
    )


def _reply_words(usage: _Usage, prompt: str) -> list[str]:
    """The visible reply: one word per output token, capped so huge limits stay cheap to send."""
    return words(min(usage.text_output, MAX_REPLY_WORDS), "reply", prompt)


def _chat_usage(usage: _Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached,
            "cache_write_tokens": usage.cache_write,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completions(call: Call, state: EmulatorState) -> Reply:
    model, messages = call.field("model"), call.field("messages")
    if not isinstance(model, str) or not isinstance(messages, list) or not messages:
        return _bad_request("'model' and a non-empty 'messages' array are required.")
    prompt, prompt_tokens = chat_prompt(messages)
    limit = call.field("max_completion_tokens", call.field("max_tokens"))
    usage = _usage(call, state, prompt, prompt_tokens, limit, call.field("reasoning_effort"))
    reply = _reply_words(usage, prompt)
    head = {
        "id": state.new_id("chatcmpl-", 29),
        "created": int(time.time()),
        "model": SNAPSHOTS.get(model, model),
        "service_tier": _served_tier(call.field("service_tier")),
        "system_fingerprint": _fingerprint(model),
    }
    if call.field("stream") is True:
        options = call.field("stream_options", {})
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return Reply(200, frames=_chat_frames(head, reply, usage if include_usage else None))
    message: dict[str, Any] = {
        "role": "assistant",
        "content": " ".join(reply),
        "refusal": None,
        "annotations": [],
    }
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    body = {**head, "object": "chat.completion", "choices": [choice], "usage": _chat_usage(usage)}
    return json_reply(body)


def _chat_frames(head: dict[str, Any], reply: list[str], usage: _Usage | None) -> list[bytes]:
    """Chunks as OpenAI streams them: with `include_usage`, every chunk has `usage: null` and
    a last chunk with no choices carries the totals; without it, no chunk mentions usage."""
    extra = {} if usage is None else {"usage": None}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse_frame({**head, "object": "chat.completion.chunk", "choices": [choice], **extra})

    frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
    frames += [chunk({"content": piece}) for piece in chunks(reply)]
    frames.append(chunk({}, "stop"))
    if usage is not None:
        last = {
            **head,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": _chat_usage(usage),
        }
        frames.append(sse_frame(last))
    frames.append(DONE_FRAME)
    return frames


def _responses_usage(usage: _Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input,
        "input_tokens_details": {
            "cached_tokens": usage.cached,
            "cache_write_tokens": usage.cache_write,
            "cache_write_tokens_details": {
                "ttl_30m_tokens": usage.cache_write,
                "ttl_12h_tokens": 0,
            },
        },
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.input + usage.output,
    }


def responses(call: Call, state: EmulatorState) -> Reply:
    model, given = call.field("model"), call.field("input")
    if not isinstance(model, str) or not given:
        return _bad_request("'model' and 'input' are required.")
    items = [call.field("instructions")] if call.field("instructions") else []
    prompt, prompt_tokens = chat_prompt(items + (given if isinstance(given, list) else [given]))
    reasoning = call.field("reasoning", {})
    effort = reasoning.get("effort") if isinstance(reasoning, dict) else None
    usage = _usage(call, state, prompt, prompt_tokens, call.field("max_output_tokens"), effort)
    reply = _reply_words(usage, prompt)
    searches = sum(
        1
        for tool in call.field("tools", [])
        if isinstance(tool, dict) and str(tool.get("type")).startswith("web_search")
    )
    started = _response_object(call, state, model, effort)
    completed = {
        **started,
        "status": "completed",
        "completed_at": started["created_at"],
        "output": _response_output(state, usage, searches, prompt, reply),
        "usage": _responses_usage(usage),
        "tool_usage": {
            "image_gen": _NO_IMAGE_GEN_USAGE,
            "web_search": {"num_requests": searches},
        },
    }
    if call.field("stream") is True:
        events = stream_events(started, completed, reply, content_parts=True)
        return Reply(200, frames=[sse_frame(event, event=event["type"]) for event in events])
    return json_reply(completed)


def _response_object(call: Call, state: EmulatorState, model: str, effort: Any) -> dict[str, Any]:
    """The response as `response.created` shows it: the request's settings, no output yet."""
    return {
        "id": state.new_id("resp_", 48),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": call.field("instructions"),
        "max_output_tokens": call.field("max_output_tokens"),
        "model": SNAPSHOTS.get(model, model),
        "output": [],
        "parallel_tool_calls": call.field("parallel_tool_calls", True),
        "previous_response_id": call.field("previous_response_id"),
        "prompt_cache_key": call.field("prompt_cache_key"),
        "reasoning": {"effort": effort, "summary": None},
        "service_tier": _served_tier(call.field("service_tier")),
        "store": call.field("store", True),
        "temperature": call.field("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": call.field("tool_choice", "auto"),
        "tools": call.field("tools", []),
        "top_p": call.field("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": call.field("metadata", {}),
    }


def _response_output(
    state: EmulatorState, usage: _Usage, searches: int, prompt: str, reply: list[str]
) -> list[dict[str, Any]]:
    """A reasoning item when the model reasoned, one item per web search, then the message."""
    output: list[dict[str, Any]] = []
    if usage.reasoning:
        output.append({"id": state.new_id("rs_", 48), "type": "reasoning", "summary": []})
    output += [
        {
            "id": state.new_id("ws_", 48),
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "search", "query": prompt[:200]},
        }
        for _ in range(searches)
    ]
    output.append(message_item(state.new_id("msg_", 48), " ".join(reply)))
    return output


_NO_IMAGE_GEN_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
    "output_tokens": 0,
    "total_tokens": 0,
}


def embeddings(call: Call, state: EmulatorState) -> Reply:
    model, given = call.field("model"), call.field("input")
    inputs = [given] if isinstance(given, str) else given
    if not isinstance(model, str) or not isinstance(inputs, list) or not inputs:
        return _bad_request("'model' and a non-empty 'input' are required.")
    dimensions = call.field(
        "dimensions", EMBEDDING_DIMENSIONS.get(model, DEFAULT_EMBEDDING_DIMENSIONS)
    )
    if not isinstance(dimensions, int) or dimensions < 1:
        return _bad_request("'dimensions' must be a positive integer.")
    as_base64 = call.field("encoding_format") == "base64"
    tokens = sum(len(item) if isinstance(item, list) else tokens_in(str(item)) for item in inputs)
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": _vector(model, item, dimensions, as_base64),
        }
        for index, item in enumerate(inputs)
    ]
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return json_reply({"object": "list", "data": data, "model": model, "usage": usage})


def _vector(model: str, item: Any, dimensions: int, as_base64: bool) -> list[float] | str:
    """A unit vector that depends only on the model and the input, so equal texts embed equally."""
    draw = random.Random(seed_of(model, item))
    raw = [draw.uniform(-1.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(value * value for value in raw)) or 1.0
    vector = [value / norm for value in raw]
    if as_base64:
        return base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
    return vector


PROVIDER = Provider(
    name="openai",
    routes=(
        Route("POST", "/v1/chat/completions", chat_completions),
        Route("POST", "/v1/responses", responses),
        Route("POST", "/v1/embeddings", embeddings),
    ),
    error=_error,
    authorized=has_bearer_token,
)
