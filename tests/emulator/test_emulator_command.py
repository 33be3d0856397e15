"""`enrichment-logs emulator --port PORT` serves the providers until it is stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx


def test_the_emulator_command_serves_openai_on_loopback():
    command = Path(sys.executable).parent / "enrichment-logs"
    server = subprocess.Popen(
        [str(command), "emulator", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        name, openai_url = server.stdout.readline().split()
        assert name == "openai" and openai_url.startswith("http://127.0.0.1:")
        reply = httpx.post(
            f"{openai_url}/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Acme?"}]},
            headers={"Authorization": "Bearer test"},
            timeout=10,
        )
        assert reply.status_code == 200
        assert reply.json()["usage"]["prompt_tokens"] > 0
    finally:
        server.terminate()
        assert server.wait(timeout=10) is not None
