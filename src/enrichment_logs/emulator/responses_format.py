"""The OpenAI Responses format, which both OpenAI's `/v1/responses` and Perplexity's Agent API use.

The two differ in the response object they build and in how they frame events, not in the event
sequence, so the sequence is written once here.
"""

from __future__ import annotations

from typing import Any

from enrichment_logs.emulator.text import chunks


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content if status == "completed" else [],
    }


def stream_events(
    started: dict[str, Any], completed: dict[str, Any], reply: list[str], *, content_parts: bool
) -> list[dict[str, Any]]:
    """`response.created` ... `response.completed`, numbered; the message is the last output item.

    Items before the message (reasoning, searches) arrive whole as added/done pairs; the message
    text arrives as `response.output_text.delta` events. `content_parts` adds the
    `response.content_part.*` events OpenAI sends and Perplexity does not.
    """
    *leading, message = completed["output"]
    index = len(leading)
    item_id = message["id"]
    text = " ".join(reply)
    part = message["content"][0]
    located = {"item_id": item_id, "output_index": index, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for position, item in enumerate(leading):
        events.append(
            {"type": "response.output_item.added", "output_index": position, "item": item}
        )
        events.append({"type": "response.output_item.done", "output_index": position, "item": item})
    events.append(
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": message_item(item_id, "", "in_progress"),
        }
    )
    if content_parts:
        empty = {**part, "text": ""}
        events.append({"type": "response.content_part.added", **located, "part": empty})
    events += [
        {"type": "response.output_text.delta", **located, "delta": piece, "logprobs": []}
        for piece in chunks(reply)
    ]
    events.append({"type": "response.output_text.done", **located, "text": text, "logprobs": []})
    if content_parts:
        events.append({"type": "response.content_part.done", **located, "part": part})
    events.append({"type": "response.output_item.done", "output_index": index, "item": message})
    events.append({"type": "response.completed", "response": completed})
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]
