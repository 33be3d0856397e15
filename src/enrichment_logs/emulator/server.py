"""`ProviderEmulator`: one loopback HTTP server answering as OpenAI, Perplexity, Exa and Firecrawl.

Each provider is mounted under its own path prefix, which is part of the base URL its SDK is
given, so one port serves all four. Firecrawl is also served at the root (`/v2/...`) because the
sync `firecrawl-py` client joins `/v2/...` onto its `api_url` with `urljoin`, which drops any path
the URL had; `firecrawl_base_url` is therefore the bare origin.

The server speaks HTTP/1.1 with keep-alive and streams server-sent events with chunked encoding,
one chunk per event, so SDKs see real incremental streams. Every request gets its own thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from enrichment_logs.emulator import exa, firecrawl, openai, perplexity
from enrichment_logs.emulator.faults import Decision, FaultPlan, Malformed, ScriptStep
from enrichment_logs.emulator.request_log import RecordedRequest, RequestLog
from enrichment_logs.emulator.state import EmulatorState
from enrichment_logs.emulator.wire import Call, Provider, Reply, encode_json, status_phrase
from enrichment_logs.http_server import ConnectionTrackingServer

MOUNTS: Mapping[str, Provider] = {
    "/openai": openai.PROVIDER,
    "/perplexity": perplexity.PROVIDER,
    "/exa": exa.PROVIDER,
    "/firecrawl": firecrawl.PROVIDER,
}
ROOT_PREFIXES: Mapping[str, Provider] = {"/v2/": firecrawl.PROVIDER}
PROVIDER_NAMES = frozenset(provider.name for provider in MOUNTS.values())
MAX_HANG_SECONDS = 5.0
"""A hang outlasts any sane client timeout in a test, yet never stalls a test run for long."""
HUGE_BODY_BYTES = 8 * 1024 * 1024
NOT_JSON_BODY = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
STOP_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class _Outcome:
    reply: Reply
    decision: Decision = field(default_factory=Decision)


class ProviderEmulator:
    """OpenAI-, Perplexity-, Exa- and Firecrawl-compatible endpoints on 127.0.0.1, for tests and
    the demo, so that no paid API is ever called.

    Use it as a context manager (or `start()` / `stop()`); point each SDK at its base URL
    property. Faults can be set at construction and changed while it runs, from any thread.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        fail: Mapping[str, float] | None = None,
        latency: Mapping[str, float] | None = None,
        hang: Iterable[str] = (),
        malformed: Mapping[str, Malformed] | None = None,
        hang_seconds: float = MAX_HANG_SECONDS,
    ) -> None:
        """`fail`, `latency` and `malformed` map provider names to a failure rate in [0, 1],
        added seconds, and a malformation; `hang` names providers whose requests hang for
        `hang_seconds` (at most 5) before being answered."""
        if not 0 < hang_seconds <= MAX_HANG_SECONDS:
            raise ValueError(f"hang_seconds must be within (0, {MAX_HANG_SECONDS}]")
        hang = list(hang)
        for names in (fail or {}, latency or {}, hang, malformed or {}):
            _check_providers(names)
        self._address = (host, port)
        self._hang_seconds = hang_seconds
        self._faults = FaultPlan(seed, fail or {}, latency or {}, hang, malformed or {})
        self._log = RequestLog()
        self._state = EmulatorState(seed)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> ProviderEmulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._stopping.clear()
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="provider-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops serving, ends hangs and open keep-alive connections, within about `timeout`."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> ProviderEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Base URLs

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; start() it first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """For `OpenAI(base_url=...)`."""
        return f"{self.base_url}/openai/v1"

    @property
    def perplexity_base_url(self) -> str:
        """For `Perplexity(base_url=...)`; the OpenAI SDK reaches the Agent API at `+ "/v1"`."""
        return f"{self.base_url}/perplexity"

    @property
    def exa_base_url(self) -> str:
        """For `Exa(base_url=...)`; `AsyncExa` names the same argument `api_base`."""
        return f"{self.base_url}/exa"

    @property
    def firecrawl_base_url(self) -> str:
        """For `Firecrawl(api_url=...)`: the bare origin (see the module docstring)."""
        return self.base_url

    # Request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        return self._log.snapshot()

    def count(self, provider: str | None = None, path: str | None = None) -> int:
        """How many requests reached `provider` (and `path`, relative to its mount)."""
        return self._log.count(provider, path)

    # Faults

    def fail(self, provider: str, rate: float) -> None:
        """Answer this share of the provider's requests with 500 and its error body."""
        _check_providers([provider])
        self._faults.set_failure_rate(provider, rate)

    def delay(self, provider: str, seconds: float) -> None:
        """Add latency to every request to the provider."""
        _check_providers([provider])
        self._faults.set_latency(provider, seconds)

    def hang(self, provider: str, hang: bool = True) -> None:
        """Make (or stop making) every request to the provider wait `hang_seconds` first."""
        _check_providers([provider])
        self._faults.set_hang(provider, hang)

    def malform(self, provider: str, kind: Malformed | None) -> None:
        """Corrupt every reply of the provider (see `Malformed`), or stop with `None`."""
        _check_providers([provider])
        self._faults.set_malformed(provider, kind)

    def script(
        self, provider: str, steps: Iterable[ScriptStep], *, retry_after: float | None = None
    ) -> None:
        """Queue replies for the provider's next requests: a status (error statuses get the
        provider's error body and, with `retry_after`, a `Retry-After` header; 2xx is the normal
        reply), `"hang"`, or a malformation. Requests after the queue runs out are normal."""
        _check_providers([provider])
        self._faults.script(provider, steps, retry_after)

    # Serving (called on the server's threads)

    def _respond(
        self, method: str, target: str, headers: Mapping[str, str], raw: bytes
    ) -> _Outcome:
        body = _parse_json(raw)
        path = urlsplit(target).path
        mounted = _resolve(path)
        if mounted is None:
            name, relative = "unknown", path
            outcome = _Outcome(Reply(404, {"error": f"No emulated provider serves {path}"}))
        else:
            provider, mount, relative = mounted
            name = provider.name
            outcome = self._answer(
                provider, Call(method, relative, headers, body, self.base_url + mount)
            )
        self._log.append(
            RecordedRequest(name, method, relative, headers, body, outcome.reply.status)
        )
        return outcome

    def _answer(self, provider: Provider, call: Call) -> _Outcome:
        """The key is checked first, as the real APIs do, then faults, then the provider replies."""
        if not provider.authorized(call.headers):
            reply = Reply(401, provider.error(401, "Missing or invalid API key."))
            decision = Decision()
        else:
            decision = self._faults.decide(provider.name)
            if decision.status is None:
                reply = provider.handle(call, self._state)
            else:
                reply = _fault_reply(provider, decision)
        request_id = {"x-request-id": self._state.new_id("req_", 32)}
        return _Outcome(replace(reply, headers={**reply.headers, **request_id}), decision)

    def _wait(self, decision: Decision) -> None:
        """Latency, then a hang; both end early when the emulator stops."""
        seconds = decision.delay + (self._hang_seconds if decision.hang else 0.0)
        if seconds > 0:
            self._stopping.wait(seconds)


def _check_providers(names: Iterable[str]) -> None:
    unknown = set(names) - PROVIDER_NAMES
    if unknown:
        raise ValueError(
            f"unknown provider(s) {sorted(unknown)}; expected {sorted(PROVIDER_NAMES)}"
        )


def _resolve(path: str) -> tuple[Provider, str, str] | None:
    """The provider serving a path, its mount prefix, and the path relative to it."""
    for mount, provider in MOUNTS.items():
        if path.startswith(mount + "/"):
            return provider, mount, path.removeprefix(mount)
    for prefix, provider in ROOT_PREFIXES.items():
        if path.startswith(prefix):
            return provider, "", path
    return None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _fault_reply(provider: Provider, decision: Decision) -> Reply:
    status = decision.status or 500
    headers = {} if decision.retry_after is None else {"Retry-After": f"{decision.retry_after:g}"}
    return Reply(
        status,
        provider.error(status, f"{status_phrase(status)} (emulated fault)."),
        headers=headers,
    )


class _Server(ConnectionTrackingServer):
    daemon_threads = True
    request_queue_size = 512
    """Room for hundreds of clients connecting at once."""

    def __init__(self, address: tuple[str, int], emulator: ProviderEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's
    # delayed ACK holds the body back ~40 ms per request, which real servers do not do.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log is the record."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        emulator = self.server.emulator
        outcome = emulator._respond(self.command, self.path, headers, raw)
        emulator._wait(outcome.decision)
        if outcome.reply.frames is not None and outcome.decision.malformed != "not_json":
            self._send_stream(outcome.reply, outcome.decision.malformed)
        else:
            self._send_body(outcome.reply, outcome.decision.malformed)

    def _start(self, reply: Reply, content_type: str) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)

    def _send_body(self, reply: Reply, malformed: Malformed | None) -> None:
        content_type = "application/json"
        if malformed == "not_json":
            payload, content_type = NOT_JSON_BODY, "text/html"
        elif malformed == "huge" and isinstance(reply.body, dict):
            payload = encode_json({**reply.body, "emulator_padding": "x" * HUGE_BODY_BYTES})
        else:
            payload = encode_json(reply.body)
            if malformed == "truncated":
                payload = payload[: len(payload) // 2]
        self._start(reply, content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_stream(self, reply: Reply, malformed: Malformed | None) -> None:
        """One chunk per event; `truncated` sends half the events and hangs up mid-body."""
        frames = list(reply.frames or ())
        if malformed == "huge":
            frames.insert(0, b": " + b"x" * HUGE_BODY_BYTES + b"\n\n")
        if malformed == "truncated":
            frames = frames[: len(frames) // 2]
        self._start(reply, "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for frame in frames:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        if malformed == "truncated":
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
