"""Raw HTTP for what the SDKs hide from a test: status codes, headers, fields they drop."""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

KEY = "sk-emulator-test"


@dataclass(frozen=True)
class RawReply:
    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


def send(
    url: str,
    body: Any = None,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    key: str | None = KEY,
) -> RawReply:
    """One request over a new loopback connection; a Bearer key unless `key` is None."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    payload = None if body is None else json.dumps(body).encode()
    try:
        connection.request(method, parts.path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        names = {name.lower(): value for name, value in response.getheaders()}
        return RawReply(response.status, names, data)
    finally:
        connection.close()
