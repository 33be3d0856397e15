"""The server itself: one port for four providers, keep-alive, hundreds of concurrent clients, a
request log, bounded shutdown, reproducible ids, and a command line for manual use."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from enrichment_logs.emulator import ProviderEmulator
from tests.emulator.raw_http import KEY, send

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def test_each_provider_has_its_own_base_url_on_one_port(emulator: ProviderEmulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.base_url)
    assert emulator.openai_base_url == emulator.base_url + "/openai/v1"
    assert emulator.perplexity_base_url == emulator.base_url + "/perplexity"
    assert emulator.exa_base_url == emulator.base_url + "/exa"
    assert emulator.firecrawl_base_url == emulator.base_url


def test_the_request_log_records_what_was_sent(emulator: ProviderEmulator) -> None:
    send(emulator.openai_base_url + "/chat/completions", CHAT, headers={"X-Trace": "t-1"})
    send(emulator.exa_base_url + "/search", {"query": "Acme"}, key=None)
    send(emulator.base_url + "/nowhere", {"a": 1})

    chat, exa, unknown = emulator.requests
    assert (chat.provider, chat.method, chat.path, chat.status) == (
        "openai",
        "POST",
        "/v1/chat/completions",
        200,
    )
    assert chat.headers["x-trace"] == "t-1"
    assert chat.body == CHAT
    assert (exa.provider, exa.status) == ("exa", 401)
    assert (unknown.provider, unknown.status) == ("unknown", 404)
    assert emulator.count() == 3
    assert emulator.count("exa") == 1
    assert emulator.count("openai", "/v1/responses") == 0
    assert emulator.count(path="/v1/chat/completions") == 1


def test_an_unknown_endpoint_gets_the_providers_404(emulator: ProviderEmulator) -> None:
    reply = send(emulator.openai_base_url + "/images/generations", {"prompt": "x"})

    assert reply.status == 404
    assert reply.json()["error"]["message"] == "Invalid URL (POST /v1/images/generations)"


def test_a_bad_request_gets_the_providers_400(emulator: ProviderEmulator) -> None:
    reply = send(emulator.openai_base_url + "/chat/completions", {"model": "gpt-4o"})

    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_two_hundred_concurrent_clients_are_served(emulator: ProviderEmulator) -> None:
    barrier = threading.Barrier(200, timeout=10)

    def call(index: int) -> int:
        barrier.wait()
        body = {"query": f"company {index}"}
        return send(emulator.perplexity_base_url + "/search", body).status

    with ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(call, range(200)))

    assert statuses == [200] * 200
    assert emulator.count("perplexity", "/search") == 200


def test_connections_are_kept_alive(emulator: ProviderEmulator) -> None:
    connection = http.client.HTTPConnection(urlsplit(emulator.base_url).netloc, timeout=5)
    try:
        for _ in range(3):
            connection.request(
                "POST", "/openai/v1/chat/completions", body=json.dumps(CHAT), headers=HEADERS
            )
            first_socket = connection.sock
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["usage"]["total_tokens"] > 0
            assert connection.sock is first_socket
    finally:
        connection.close()


def test_stop_is_bounded_even_with_open_and_hanging_connections() -> None:
    emulator = ProviderEmulator(hang=["exa"], hang_seconds=5.0).start()
    base_url = emulator.base_url
    idle = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=5)
    idle.request("POST", "/openai/v1/chat/completions", body=json.dumps(CHAT), headers=HEADERS)
    idle.getresponse().read()

    def wait_for_the_hang() -> None:
        with contextlib.suppress(OSError):
            send(base_url + "/exa/search", {"query": "Acme"})

    hanging = threading.Thread(target=wait_for_the_hang, daemon=True)
    hanging.start()
    while emulator.count("exa") == 0:
        time.sleep(0.01)

    started = time.monotonic()
    emulator.stop()

    assert time.monotonic() - started < 1.0
    assert idle.sock is not None
    assert idle.sock.recv(1) == b""  # the server hung up the idle keep-alive connection
    idle.close()
    hanging.join(2)
    assert not hanging.is_alive()
    with pytest.raises(ConnectionRefusedError):
        send(base_url + "/exa/search", {"query": "Acme"})


def test_ids_are_reproducible_from_the_seed() -> None:
    def ids(seed: int) -> list[str]:
        with ProviderEmulator(seed=seed) as emulator:
            return [
                send(emulator.openai_base_url + "/chat/completions", CHAT).json()["id"]
                for _ in range(3)
            ]

    assert ids(5) == ids(5)
    assert ids(5) != ids(6)


def test_the_base_url_needs_a_running_emulator() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = ProviderEmulator().base_url


@pytest.mark.parametrize(
    ("stop_signal", "inherited_sigint"),
    [
        (signal.SIGINT, signal.SIG_DFL),
        (signal.SIGINT, signal.SIG_IGN),  # what a shell's background job inherits
        (signal.SIGTERM, signal.SIG_DFL),
    ],
    ids=["ctrl-c", "ctrl-c-after-a-background-start", "sigterm"],
)
def test_the_command_line_serves_until_stopped(
    stop_signal: signal.Signals, inherited_sigint: signal.Handlers
) -> None:
    process = subprocess.Popen(
        # -X faulthandler: a SIGABRT makes it print every thread's stack, should it not stop
        [sys.executable, "-X", "faulthandler", "-m", "enrichment_logs.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, inherited_sigint),
    )
    try:
        assert process.stdout is not None
        openai_line = process.stdout.readline()
        base_url = openai_line.split()[1]
        reply = send(base_url + "/chat/completions", CHAT)
        assert reply.json()["object"] == "chat.completion"
        process.send_signal(stop_signal)
        try:
            returncode = process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # say where it hangs
            process.send_signal(signal.SIGABRT)
            _, stacks = process.communicate(timeout=10)
            pytest.fail(f"the emulator did not stop within 5 s of the signal; threads:\n{stacks}")
        assert returncode == 0
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
