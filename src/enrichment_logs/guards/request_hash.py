"""`request_hash`: one identity for identical requests, whoever sends them and however ordered.

The row's `request_hash` is what `enrichment-logs suggest` groups repeats by and what the
response cache is keyed on, so it must be stable across processes and releases, and the same for
requests that only differ in form: JSON key order and whitespace do not matter, a URL's scheme
and host are compared in lower case and its `#fragment` is dropped. It covers the provider, the
endpoint (`POST /v2/scrape`, or a `@tool`'s operation) and the request; never API keys or other
headers, which do not change the answer.

Only JSON-shaped requests are hashed: a request holding anything else (an object whose `repr`
may differ between equal values, or match between different ones) gets no hash, so it can never
be served another request's response.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Final

PREFIX: Final = "sha256:"
_URL: Final = re.compile(r"^(https?)://([^/?#]+)([^#]*)(?:#.*)?$", re.IGNORECASE)
_NOT_JSON: Final = object()


def request_hash(provider: str, endpoint: str, request: Any) -> str | None:
    """`sha256:<hex>` of the normalised request, or None when it is not JSON-shaped."""
    normalised = _normalise(request, 0)
    if normalised is _NOT_JSON:
        return None
    text = json.dumps(
        [provider, endpoint, normalised],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return PREFIX + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _normalise(value: Any, depth: int) -> Any:
    """A JSON value with URLs normalised, or `_NOT_JSON`."""
    if depth > 64:
        return _NOT_JSON
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else _NOT_JSON
    if isinstance(value, str):
        match = _URL.match(value)
        if match is None:
            return value
        return f"{match.group(1).lower()}://{match.group(2).lower()}{match.group(3)}"
    if isinstance(value, list | tuple):
        items = [_normalise(item, depth + 1) for item in value]
        return _NOT_JSON if any(item is _NOT_JSON for item in items) else items
    if isinstance(value, dict):
        normalised = {}
        for key, item in value.items():
            if not isinstance(key, str):
                return _NOT_JSON
            normalised[key] = _normalise(item, depth + 1)
            if normalised[key] is _NOT_JSON:
                return _NOT_JSON
        return normalised
    return _NOT_JSON
