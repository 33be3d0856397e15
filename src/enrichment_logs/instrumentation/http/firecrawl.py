"""Firecrawl, API versions v1 and v2: scrape, search, map, and the crawl, batch scrape, extract
and agent jobs.

Firecrawl bills in credits and reports them in `creditsUsed`: top level for a search (which
`firecrawl-py`'s `search()` drops, so only this layer sees it) and for a job's final status, and
in `data.metadata.creditsUsed` for a scrape. Jobs are billed as their pages complete, so a job's
credits are recorded from the status that reports it finished.
"""

from __future__ import annotations

import re
from typing import Any

from enrichment_logs.instrumentation.http.api import (
    OTHER,
    Endpoint,
    dig,
    items,
    job_endpoint,
    job_failure,
    obj,
)
from enrichment_logs.pricing.usage import ExtraValue, Usage

STREAM_MARKERS: tuple[bytes, ...] = ()
"""Firecrawl does not stream responses."""
_VERSIONED = re.compile(r"^/v[12](/.*)$")
_OPERATIONS = {"/scrape": "scrape", "/search": "search", "/map": "map"}
_JOBS = {
    "/crawl": "crawl",
    "/batch/scrape": "batch_scrape",
    "/extract": "extract",
    "/agent": "agent",
    "/deep-research": "deep_research",
    "/llmstxt": "llmstxt",
}
_FINISHED = frozenset({"completed", "failed", "cancelled"})
_FAILED = frozenset({"failed", "cancelled"})
_RESULT_KINDS = ("web", "news", "images")


def endpoint(method: str, path: str) -> Endpoint:
    versioned = _VERSIONED.match(path.rstrip("/"))
    if versioned is None:
        return Endpoint(OTHER)
    path = versioned.group(1)
    if method == "POST" and path in _OPERATIONS:
        return Endpoint(_OPERATIONS[path])
    return job_endpoint(method, path, _JOBS) or Endpoint(OTHER)


def usage(endpoint: Endpoint, request: Any, response: Any) -> Usage:
    body = obj(response)
    credits = body.get("creditsUsed")
    extra: dict[str, ExtraValue | None] = {"tokens_used": body.get("tokensUsed")}
    if endpoint.operation == "scrape":
        if credits is None:
            credits = dig(body, "data", "metadata", "creditsUsed")
        extra["json_format"] = _asks_for_json(request)
    elif endpoint.operation == "search":
        extra["results"] = _search_results(body.get("data"))
    return Usage.parse(credits=credits, extra=extra)


def _asks_for_json(request: Any) -> bool:
    """LLM extraction (+4 credits a page): the v2 `json` format, or v1's `extract`."""
    for kind in items(obj(request).get("formats")):
        name = obj(kind).get("type") if isinstance(kind, dict) else kind
        if name in ("json", "extract"):
            return True
    return False


def _search_results(data: Any) -> int:
    """v2 groups results by kind (`web`, `news`, `images`); v1 returns one list."""
    if isinstance(data, list):
        return len(data)
    return sum(len(items(obj(data).get(kind))) for kind in _RESULT_KINDS)


def final_event(event: Any) -> Any:
    return None


def failure(endpoint: Endpoint, response: Any) -> str | None:
    return job_failure(endpoint, response, _FAILED)


def job_id(response: Any) -> str | None:
    found = obj(response).get("id")
    return found if isinstance(found, str) and found else None


def job_finished(response: Any) -> bool:
    return obj(response).get("status") in _FINISHED
