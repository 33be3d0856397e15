"""What of a request or response may be stored: metadata by default, scrubbed content on opt-in.

Lead-enrichment payloads carry personal data (names, emails, phone numbers) and the calls carry
API keys. Without opt-in only the shape is kept (keys, types and sizes, never values). With opt-in
(`capture_content=True`, `ENRICHMENT_LOGS_CAPTURE_CONTENT` or the GenAI convention's
`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`) the content is kept, but secrets are always
replaced by `[REDACTED]` and the JSON is capped in size. This runs on the pipeline's thread before
anything reaches a span, so that no exporter (DuckDB, OTLP) ever sees a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from json.encoder import encode_basestring as _json_string
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(authorization|api[-_]?key|apikey|x-api-key|cookie|set-cookie|secret|password|passwd|"
    r"token|access[-_]?key|private[-_]?key|credential)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(?:"
    r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}"  # OpenAI
    r"|\bpplx-[A-Za-z0-9_-]{16,}"  # Perplexity
    r"|\bfc-[A-Za-z0-9_-]{16,}"  # Firecrawl
    r"|\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"  # Authorization header values
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"  # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r")"
)
_SECRET_QUERY = re.compile(
    r"([?&](?:api[-_]?key|apikey|key|token|access_token|secret|signature|sig)=)[^&#\s\"']+",
    re.IGNORECASE,
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[ -]?\(?\d{1,4}\)?){2,5}"  # international: +1 (415) 555-0132
    r"|\(\d{2,4}\)[ -]?\d{3,4}[ -]?\d{3,4}"  # area code in parentheses: (020) 7946 0958
    r"|\d{3}[-. ]\d{3}[-. ]\d{4}"  # North American: 415-555-0132
    r")(?!\w)"
)
EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"

DEFAULT_MAX_BYTES = 16_384


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value` with every secret replaced; unknown objects become `repr`."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY.search(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return scrub(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, str):
        return _SECRET_QUERY.sub(rf"\1{REDACTED}", _SECRET_VALUE.sub(REDACTED, value))
    if value is None or isinstance(value, bool | int | float):
        return value
    dumped = _model_dump(value)
    return scrub(dumped) if dumped is not None else scrub(repr(value))


def capture(value: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Scrubbed content as a JSON string of at most `max_bytes` (truncated content says so)."""
    text = json.dumps(scrub(value), ensure_ascii=False, default=str)
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    head = text.encode("utf-8")[: max(max_bytes - 100, 0)].decode("utf-8", "ignore")
    return json.dumps({"truncated": True, "original_bytes": len(text.encode()), "head": head})


def mask_personal(text: str) -> str:
    """`text` with email addresses and phone numbers (common formats) replaced by masks."""
    return _PHONE.sub(PHONE_MASK, _EMAIL.sub(EMAIL_MASK, text))


def describe(value: Any) -> str:
    """Shape-only metadata as a JSON string: types, sizes and mapping keys, never values.

    It runs twice per call on the pipeline's thread, so the JSON is joined by hand from
    `json`'s own string encoder: `json.dumps` doubled the cost of describing a small mapping.
    """
    if not isinstance(value, (dict, Mapping)):  # a dict is matched before the (slower) ABC
        return _json_string(_size(value))
    shape = {str(key)[:64]: _size(item) for key, item in islice(value.items(), 50)}
    return (
        "{"
        + ", ".join([f"{_json_string(key)}: {_json_string(size)}" for key, size in shape.items()])
        + "}"
    )


_SIZED = (str, bytes, bytearray, list, tuple, set, frozenset)
"""A tuple, not `str | bytes | ...`: that expression builds a new union object at every call."""


def _size(value: Any) -> str:
    """A value's type and size; concrete types are tried before the (slower) `Mapping` check."""
    if isinstance(value, dict):
        return f"object[{len(value)}]"
    if isinstance(value, _SIZED):
        return f"{type(value).__name__}[{len(value)}]"
    if isinstance(value, Mapping):
        return f"object[{len(value)}]"
    # SDK response objects are described by their type: dumping a pydantic model to learn its
    # shape would cost more than the rest of the call's logging together.
    return type(value).__name__


def _model_dump(value: Any) -> Any:
    """SDK response objects (pydantic models) expose their data through `model_dump`."""
    dump = getattr(value, "model_dump", None)
    if isinstance(value, type) or not callable(dump):
        return None  # a model class (e.g. a response_format) is described by its name
    try:
        return dump(mode="json", warnings=False)
    except Exception:
        return None


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """Whether content is captured, and how much of it; set once by `configure()`."""

    capture: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES

    def render(self, value: Any) -> str:
        """What a span may carry of `value` under this policy, as a JSON string."""
        return capture(value, self.max_bytes) if self.capture else describe(value)

    def render_arguments(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        """`render({"args": args, "kwargs": kwargs})`: a decorated function's request. Its shape
        is written without building that mapping and walking it: this runs on every `@tool` call.
        """
        if self.capture:
            return capture({"args": args, "kwargs": kwargs}, self.max_bytes)
        return f'{{"args": {_json_string(_size(args))}, "kwargs": {_json_string(_size(kwargs))}}}'

    def error_message(self, message: str) -> str:
        """An error's message as a row may keep it: always without secrets, and without content
        capture also without email addresses and phone numbers (exceptions often quote the
        data they failed on). Runs only for failed calls."""
        scrubbed = str(scrub(message))
        return scrubbed if self.capture else mask_personal(scrubbed)


_policy = ContentPolicy()


def set_policy(policy: ContentPolicy) -> None:
    global _policy
    _policy = policy


def current_policy() -> ContentPolicy:
    return _policy
