"""Malformed, truncated, non-JSON and enormous provider responses: the caller gets exactly what it
gets without enrichment-logs (the same result, or the same exception with the same message), and
each logged call is one valid row.

"Without us" is measured, not assumed: the same call is made once where nothing is logged and
once where it is. With the emulator's malformations through the official SDKs (two emulators with
the same seed answer identically), and with arbitrary replies from a raw loopback server through
httpx and requests, streamed or not (property-based).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import exa_py
import firecrawl
import httpx
import openai
import perplexity
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from enrichment_logs.emulator import Malformed, ProviderEmulator
from enrichment_logs.instrumentation.http import HttpProvidersInstrumentor
from enrichment_logs.reference.clients import emulator_routes

KEY = "emulator-key"
Outcome = tuple[str, ...]


_CLOCK = re.compile(r"(created(?:_at)?['\"]?[=:] ?)\d+|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
"""Times the emulator stamps on replies (`created`, `server_time`): two calls a second apart
differ there and nowhere else."""


def outcome(call: Callable[[], Any], *addresses: str) -> Outcome:
    """What the caller got: its result, or the exception's type and message (addresses and
    reply times hidden)."""
    try:
        got: tuple[str, ...] = ("returned", repr(call()))
    except Exception as error:
        got = ("raised", type(error).__qualname__, str(error))
    for address in addresses:
        got = tuple(part.replace(address, "<server>") for part in got)
    return tuple(_CLOCK.sub(r"\1<time>", part) for part in got)


# --- the official SDKs against the emulator's malformations -----------------------------------

SDK_CALLS: dict[str, Callable[[ProviderEmulator], Any]] = {
    "openai": lambda emulator: openai.OpenAI(
        api_key=KEY, base_url=emulator.openai_base_url, max_retries=0
    ).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Acme?"}]),
    "openai-stream": lambda emulator: list(
        openai.OpenAI(
            api_key=KEY, base_url=emulator.openai_base_url, max_retries=0
        ).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Acme?"}], stream=True
        )
    ),
    "perplexity": lambda emulator: perplexity.Perplexity(
        api_key=KEY, base_url=emulator.perplexity_base_url, max_retries=0
    ).search.create(query="Acme"),
    "exa": lambda emulator: exa_py.Exa(KEY, base_url=emulator.exa_base_url).search("Acme"),
    "firecrawl": lambda emulator: firecrawl.Firecrawl(
        api_key="fc-" + KEY, api_url=emulator.firecrawl_base_url
    ).scrape("https://acme.example"),
}
PROVIDER = {"openai-stream": "openai"}


@pytest.mark.parametrize("malformation", ["truncated", "not_json", "huge"])
@pytest.mark.parametrize("call", list(SDK_CALLS))
def test_a_malformed_reply_reaches_the_sdk_as_it_would_without_us_and_is_one_row(
    make_logs, call: str, malformation: Malformed
):
    provider = PROVIDER.get(call, call)
    with ProviderEmulator(seed=9) as bare, ProviderEmulator(seed=9) as logged:
        bare.malform(provider, malformation)
        logged.malform(provider, malformation)
        without_us = outcome(lambda: SDK_CALLS[call](bare), bare.base_url)
        logs = make_logs(provider_routes=emulator_routes(logged), instrument=True)
        with_us = outcome(lambda: SDK_CALLS[call](logged), logged.base_url)
        rows = logs.rows()
        requests_made = logged.count()

    assert with_us == without_us
    assert len(rows) == requests_made == bare.count()
    assert {row["provider"] for row in rows} == {provider}
    assert all(row["status"] in ("success", "error") for row in rows)


# --- anything a server can answer, through raw httpx and requests -----------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str | None
    content_encoding: str | None
    framing: str
    """`length`: Content-Length; `chunked`; `cut`: a longer Content-Length, then hang up."""


class _ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True
    reply = Reply(200, b"{}", "application/json", None, "length")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gives up on a broken reply hangs up mid-write: expected here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ScriptedServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.reply
        self.send_response(reply.status)
        for name, value in (
            ("Content-Type", reply.content_type),
            ("Content-Encoding", reply.content_encoding),
        ):
            if value is not None:
                self.send_header(name, value)
        if reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(reply.body), 7):
                piece = reply.body[start : start + 7]
                self.wfile.write(b"%X\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        declared = len(reply.body) + (10 if reply.framing == "cut" else 0)
        self.send_header("Content-Length", str(declared))
        if reply.framing == "cut":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted_server() -> Iterator[_ScriptedServer]:
    server = _ScriptedServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


EXA_REPLY = (
    b'{"requestId": "r1", "resolvedSearchType": "neural", "results": [], '
    b'"costDollars": {"total": 0.007}}'
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            EXA_REPLY,
            EXA_REPLY[: len(EXA_REPLY) // 2],
            b'{"costDollars": {"total": NaN}}',
            b'{"costDollars": {"total": -1e999}, "usage": {"cost": {"total_cost": "lots"}}}',
            b'{"creditsUsed": 1e400, "data": {"metadata": {"creditsUsed": -3}}}',
            b'{"usage": {"input_tokens": 1.5, "output_tokens": "7"}}',
            b"[" * 5000 + b"]" * 5000,
            b'{"a": "\xff\xfe\xfd"}',
            b'{"a": "\\ud800"}',
            b"<html>502 Bad Gateway</html>",
            b'data: {"type": "response.completed", "response": {"usage": null}}\n\n',
            b"data: [DONE]\n\n",
            b'{"x": "' + b"y" * 2_000_000 + b'"}',
        ]
    ),
)
replies = st.builds(
    Reply,
    status=st.sampled_from([200, 201, 204, 400, 402, 429, 500, 502]),
    body=bodies,
    content_type=st.sampled_from(["application/json", "text/event-stream", "text/html", None]),
    content_encoding=st.sampled_from([None, "gzip", "deflate", "br", "identity"]),
    framing=st.sampled_from(["length", "chunked", "cut"]),
)


def _httpx(url: str) -> Any:
    reply = httpx.post(url, json={"query": "Acme"}, timeout=5)
    return reply.status_code, reply.content


def _httpx_streamed(url: str) -> Any:
    with httpx.stream("POST", url, json={"query": "Acme"}, timeout=5) as reply:
        return reply.status_code, b"".join(reply.iter_bytes())


def _requests(url: str) -> Any:
    reply = requests.post(url, json={"query": "Acme"}, timeout=5)
    return reply.status_code, reply.content


def _requests_streamed(url: str) -> Any:
    with requests.post(url, json={"query": "Acme"}, timeout=5, stream=True) as reply:
        return reply.status_code, b"".join(reply.iter_content(chunk_size=None))


CLIENTS = [_httpx, _httpx_streamed, _requests, _requests_streamed]


def test_any_reply_reaches_the_caller_as_it_would_without_us_and_is_one_row(
    make_logs, scripted_server
):
    address = f"http://127.0.0.1:{scripted_server.server_address[1]}"
    logged, unlogged = f"{address}/exa", f"{address}/plain"
    logs = make_logs(provider_routes={logged: "exa"})
    logged_calls = 0

    @given(reply=replies, client=st.sampled_from(CLIENTS))
    def the_same_for_the_caller(reply: Reply, client: Callable[[str], Any]) -> None:
        nonlocal logged_calls
        scripted_server.reply = reply
        without_us = outcome(lambda: client(unlogged + "/search"), unlogged)
        with_us = outcome(lambda: client(logged + "/search"), logged)
        logged_calls += 1
        assert with_us == without_us

    HttpProvidersInstrumentor().instrument()
    try:
        the_same_for_the_caller()
    finally:
        HttpProvidersInstrumentor().uninstrument()
    rows = logs.rows()
    assert len(rows) == logged_calls
    assert all(row["provider"] == "exa" and row["operation"] == "search" for row in rows)
    assert all(row["status"] in ("success", "error") for row in rows)
    assert logs.handle.stats.rows_dropped == 0
