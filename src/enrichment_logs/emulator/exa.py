"""Exa: `/search`, `/contents`, `/answer` and the deprecated `/findSimilar`, as exa-py reads them.

Exa reports the charge of each call in `costDollars`, which the library prefers to its own table,
so the emulator computes it from the pay-as-you-go list prices in providers.md (2026-03): search
$7/1K requests (`auto`, `neural`, legacy `fast`/`instant`; text and highlights for up to 10
results included), `lite` $4/1K, `deep` $12/1K, `deep-reasoning` $15/1K, $1/1K per result above
10, summaries $1/1K, `/contents` $1/1K pages per content type, `/answer` $5/1K. Only non-zero
parts of the breakdown are sent, as Exa does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from enrichment_logs.emulator.state import EmulatorState
from enrichment_logs.emulator.text import page_title, page_url, seed_of, sentence
from enrichment_logs.emulator.wire import Call, Provider, Reply, Route, has_bearer_token, json_reply

PER_THOUSAND = Decimal(1000)
SEARCH_PRICES: Mapping[str, Decimal] = {
    "auto": Decimal(7),
    "neural": Decimal(7),
    "fast": Decimal(7),
    "instant": Decimal(7),
    "lite": Decimal(4),
    "deep": Decimal(12),
    "deep-reasoning": Decimal(15),
}
"""USD per 1K requests by search `type`; `deep-lite` has no published price and is refused."""
INCLUDED_RESULTS = 10
EXTRA_RESULT_PRICE = Decimal(1)
SUMMARY_PRICE = Decimal(1)
CONTENT_PAGE_PRICE = Decimal(1)
ANSWER_PRICE = Decimal(5)
DEFAULT_RESULTS = 10
MAX_RESULTS = 100
CONTENT_TYPES = ("text", "highlights", "summary")
TEXT_WORDS = 120

_ERROR_TAGS = {
    400: "INVALID_REQUEST_BODY",
    401: "INVALID_API_KEY",
    404: "NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
}


def _error(status: int, message: str) -> dict[str, Any]:
    request_id = hashlib.sha256(f"{status}:{message}".encode()).hexdigest()[:32]
    return {
        "requestId": request_id,
        "error": message,
        "tag": _ERROR_TAGS.get(status, "INTERNAL_ERROR"),
    }


def _authorized(headers: Mapping[str, str]) -> bool:
    return bool(headers.get("x-api-key", "").strip()) or has_bearer_token(headers)


def _bad_request(message: str) -> Reply:
    return json_reply(_error(400, message), 400)


def _requested_contents(call: Call) -> list[str]:
    """The content types asked for, in `contents` or (older style) at the top level."""
    contents = call.field("contents", {})
    options = contents if isinstance(contents, dict) else {}
    return [kind for kind in CONTENT_TYPES if options.get(kind) or call.field(kind)]


def _result(
    seed_text: str, index: int, contents: list[str], url: str | None = None
) -> dict[str, Any]:
    url = url or page_url(seed_text, index)
    day = seed_of(url) % 28 + 1
    result: dict[str, Any] = {
        "id": url,
        "url": url,
        "title": page_title(seed_text, index),
        "publishedDate": f"2026-10-{day:02d}T00:00:00.000Z",
        "author": None,
    }
    if "text" in contents:
        result["text"] = sentence(TEXT_WORDS, "text", url)
    if "highlights" in contents:
        result["highlights"] = [sentence(20, "highlight", url)]
    if "summary" in contents:
        result["summary"] = sentence(30, "summary", url)
    return result


def _usd(amount: Decimal) -> float:
    return float(round(amount, 6))


def _search_cost(price: Decimal, results: int, contents: list[str], key: str) -> dict[str, Any]:
    search = (price + max(0, results - INCLUDED_RESULTS) * EXTRA_RESULT_PRICE) / PER_THOUSAND
    summaries = results * SUMMARY_PRICE / PER_THOUSAND if "summary" in contents else Decimal(0)
    cost: dict[str, Any] = {"total": _usd(search + summaries), "search": {key: _usd(search)}}
    if summaries:
        cost["contents"] = {"summary": _usd(summaries)}
    return cost


def _result_count(call: Call) -> int | None:
    count = call.field("numResults", DEFAULT_RESULTS)
    return count if isinstance(count, int) and 0 < count <= MAX_RESULTS else None


def search(call: Call, state: EmulatorState) -> Reply:
    query, kind, count = call.field("query"), call.field("type", "auto"), _result_count(call)
    if not isinstance(query, str) or not query.strip():
        return _bad_request("'query' is required.")
    if kind not in SEARCH_PRICES:
        return _bad_request(f"Invalid search type '{kind}'.")
    if count is None:
        return _bad_request(f"'numResults' must be between 1 and {MAX_RESULTS}.")
    if call.field("stream") is True:
        return _bad_request("Streaming search is not emulated.")
    contents = _requested_contents(call)
    resolved = "neural" if kind == "auto" else kind
    return json_reply(
        {
            "requestId": state.new_id("", 32),
            "resolvedSearchType": resolved,
            "results": [_result(query, index, contents) for index in range(count)],
            "searchTime": float(seed_of(query) % 900 + 100),
            "costDollars": _search_cost(SEARCH_PRICES[kind], count, contents, resolved),
        }
    )


def find_similar(call: Call, state: EmulatorState) -> Reply:
    url, count = call.field("url"), _result_count(call)
    if not isinstance(url, str) or not url:
        return _bad_request("'url' is required.")
    if count is None:
        return _bad_request(f"'numResults' must be between 1 and {MAX_RESULTS}.")
    contents = _requested_contents(call)
    return json_reply(
        {
            "requestId": state.new_id("", 32),
            "results": [_result(url, index, contents) for index in range(count)],
            "costDollars": _search_cost(SEARCH_PRICES["auto"], count, contents, "neural"),
        }
    )


def contents(call: Call, state: EmulatorState) -> Reply:
    urls = call.field("urls", call.field("ids"))
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) for url in urls):
        return _bad_request("'urls' must be a non-empty list of strings.")
    kinds = _requested_contents(call) or ["text"]
    per_kind = {kind: _usd(len(urls) * CONTENT_PAGE_PRICE / PER_THOUSAND) for kind in kinds}
    total = _usd(len(urls) * len(kinds) * CONTENT_PAGE_PRICE / PER_THOUSAND)
    return json_reply(
        {
            "requestId": state.new_id("", 32),
            "results": [_result(url, index, kinds, url) for index, url in enumerate(urls)],
            "statuses": [{"id": url, "status": "success"} for url in urls],
            "costDollars": {"total": total, "contents": per_kind},
        }
    )


def answer(call: Call, state: EmulatorState) -> Reply:
    query = call.field("query")
    if not isinstance(query, str) or not query.strip():
        return _bad_request("'query' is required.")
    if call.field("stream") is True:
        return _bad_request("Streaming answers are not emulated.")
    text = ["text"] if call.field("text") is True else []
    return json_reply(
        {
            "requestId": state.new_id("", 32),
            "answer": sentence(40, "answer", query),
            "citations": [_result(query, index, text) for index in range(3)],
            "costDollars": {"total": _usd(ANSWER_PRICE / PER_THOUSAND)},
        }
    )


PROVIDER = Provider(
    name="exa",
    routes=(
        Route("POST", "/search", search),
        Route("POST", "/contents", contents),
        Route("POST", "/answer", answer),
        Route("POST", "/findSimilar", find_similar),
    ),
    error=_error,
    authorized=_authorized,
)
