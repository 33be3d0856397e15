"""The values that pass between the HTTP server and the provider modules.

Provider modules are pure functions from a `Call` to a `Reply`: they never touch a socket, so the
server alone owns HTTP (framing, keep-alive, faults) and each provider module only owns the shape
of its provider's JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enrichment_logs.emulator.state import EmulatorState


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a provider module sees it: the path is relative to the provider's mount."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names lowercased."""
    body: Any
    """The parsed JSON body, or `None` when there was none or it was not JSON."""
    base_url: str
    """Where this provider is mounted, for the absolute URLs some responses carry."""

    def field(self, name: str, default: Any = None) -> Any:
        """A top-level body field; `default` when the body is missing, not an object, or null."""
        if not isinstance(self.body, dict):
            return default
        value = self.body.get(name)
        return default if value is None else value


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: JSON when `frames` is `None`, otherwise a server-sent-event stream."""

    status: int
    body: Any = None
    frames: Sequence[bytes] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Call, "EmulatorState"], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    """Exact path, or a prefix when it ends with `/` (the rest is an id, as in `/v2/crawl/{id}`)."""
    handler: Handler

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        if self.path.endswith("/"):
            rest = path.removeprefix(self.path)
            return rest != path and rest != "" and "/" not in rest
        return path == self.path


@dataclass(frozen=True, slots=True)
class Provider:
    """Everything the server needs to serve one provider."""

    name: str
    routes: Sequence[Route]
    error: Callable[[int, str], dict[str, Any]]
    """The provider's error body for a status and a message."""
    authorized: Callable[[Mapping[str, str]], bool]
    """Whether the lowercased headers carry a credential the way the real API expects it."""

    def handle(self, call: Call, state: EmulatorState) -> Reply:
        for route in self.routes:
            if route.matches(call.method, call.path):
                return route.handler(call, state)
        return Reply(404, self.error(404, f"Invalid URL ({call.method} {call.path})"))


def has_bearer_token(headers: Mapping[str, str]) -> bool:
    """Whether an `Authorization: Bearer <token>` header carries a non-empty token."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def status_phrase(status: int) -> str:
    """`Too Many Requests` for 429; `Error` for a status HTTP does not name."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, body)


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def sse_frame(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; `event:` is written only by APIs that name their events."""
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


DONE_FRAME = b"data: [DONE]\n\n"
"""The sentinel OpenAI Chat Completions streams end with (Perplexity's streams have none)."""
