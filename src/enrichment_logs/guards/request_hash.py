"""`request_hash`: one identity for identical requests, whoever sends them and however ordered.

The row's `request_hash` is what `enrichment-logs suggest` groups repeats by and what the
response cache is keyed on, so it must be stable across processes and releases, and the same for
requests that only differ in form: JSON key order and whitespace do not matter, a URL's scheme
and host are compared in lower case and its `#fragment` is dropped. It covers the provider, the
endpoint (`POST /v2/scrape`, or a `@tool`'s operation) and the request; never API keys or other
headers, which do not change the answer.

Only JSON-shaped requests are hashed (strings, numbers, booleans, None, lists, tuples and dicts
with string keys): a request holding anything else (an object whose `repr` may differ between
equal values, or match between different ones) gets no hash, so it can never be served another
request's response. Hashing is one `json.dumps`, a regular expression over its text and SHA-256:
a few microseconds for a typical request.
"""

from __future__ import annotations

import hashlib
import re
from _json import make_encoder
from json.encoder import encode_basestring
from typing import Any, Final

PREFIX: Final = "sha256:"
_WHOLE_URL: Final = re.compile(r'"(https?)://([^/"?#\\]+)([^"#\\]*)(?:#[^"\\]*)?"', re.IGNORECASE)
"""A JSON string that is a URL, as `json.dumps` writes it (nothing to unescape in a URL)."""


def _not_json(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


_ENCODE: Final = make_encoder(
    None, _not_json, encode_basestring, None, ":", ",", True, False, False
)
"""`json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`
as `json`'s own C encoder, built once: `json.dumps` builds one per call and wraps it in Python,
which was two thirds of a hash. Without `json`'s circular-reference check (`markers` None) a
request that contains itself ends in `RecursionError`, which gives no hash like any non-JSON."""


def request_hash(provider: str, endpoint: str, request: Any) -> str | None:
    """`sha256:<hex>` of the normalised request, or None when it is not JSON-shaped."""
    try:
        text = "".join(_ENCODE([provider, endpoint, request], 0))
    except (TypeError, ValueError, RecursionError):
        return None
    if "://" in text:  # most requests hold no URL: no regular expression to run
        text = _WHOLE_URL.sub(_normalised_url, text)
    return PREFIX + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _normalised_url(match: re.Match[str]) -> str:
    return f'"{match.group(1).lower()}://{match.group(2).lower()}{match.group(3)}"'
