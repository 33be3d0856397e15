"""Deterministic stand-ins for model output and web content, and the token counts they imply.

Usage numbers must be realistic enough for pricing tests and identical on every run, so tokens are
estimated the way OpenAI's guidance does (about four characters per token, plus a fixed overhead per
chat message) and all generated text is derived from the request by hashing, never by chance.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
"""Role and separators that wrap every chat message (tiktoken's chat accounting)."""
REPLY_PRIMING_TOKENS = 3
"""The tokens that start the assistant's reply."""
WORDS_PER_DELTA = 4

_VOCABULARY = (
    "the company sells software to mid market teams and reports steady growth across regions "
    "while hiring engineers sales staff and support people in several offices"
)
_WORDS = tuple(_VOCABULARY.split())


def tokens_in(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def text_of(content: Any) -> str:
    """The text of a message content or Responses input: a string, or a list of parts/items."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(part) for part in content)
    if isinstance(content, dict):
        for key in ("text", "content", "output"):
            if key in content:
                return text_of(content[key])
    return ""


def chat_prompt(messages: Iterable[Any]) -> tuple[str, int]:
    """The prompt text of chat messages (or Responses input items) and its token count, with the
    per-message overheads."""
    texts = [text_of(message) for message in messages]
    tokens = sum(tokens_in(text) + MESSAGE_OVERHEAD_TOKENS for text in texts) + REPLY_PRIMING_TOKENS
    return "\n".join(texts), tokens


def seed_of(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def words(count: int, *seed: object) -> list[str]:
    """`count` words (about one token each) chosen from the seed."""
    start = seed_of(*seed)
    return [_WORDS[(start + index * 7) % len(_WORDS)] for index in range(count)]


def sentence(count: int, *seed: object) -> str:
    return " ".join(words(count, *seed)).capitalize() + "." if count else ""


def chunks(pieces: list[str], size: int = WORDS_PER_DELTA) -> Iterator[str]:
    """Stream deltas: `size` words per delta, each but the first with its leading space."""
    for start in range(0, len(pieces), size):
        text = " ".join(pieces[start : start + size])
        yield text if start == 0 else " " + text


def slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:6]) or "page"


def page_url(query: str, index: int) -> str:
    """A stable, distinct URL for the index-th web result of a query."""
    domains = ("example.com", "example.org", "example.net")
    return f"https://{domains[seed_of(query, index) % len(domains)]}/{slug(query)}-{index + 1}"


def page_title(query: str, index: int) -> str:
    return f"{query.strip()[:60] or 'Result'} ({index + 1})"
