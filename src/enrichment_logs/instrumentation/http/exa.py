"""Exa: search, contents, answer, find-similar, and the research and agent jobs.

Exa reports the charge of every call in `costDollars.total`; that is the row's cost. The search
type, result, page and summary counts are recorded too, so the cost engine can price a response
that lacks `costDollars`. Research tasks and agent runs are jobs: their cost comes with the
finished status.
"""

from __future__ import annotations

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

STREAM_MARKERS = (b'"costDollars"',)
_OPERATIONS = {
    "/search": "search",
    "/contents": "contents",
    "/answer": "answer",
    "/findSimilar": "find_similar",
    "/context": "context",
}
_JOBS = {"/research/v1": "research", "/agent/runs": "agent"}
_FINISHED = frozenset({"completed", "failed", "canceled", "cancelled"})
_FAILED = frozenset({"failed", "canceled", "cancelled"})


def endpoint(method: str, path: str) -> Endpoint:
    path = path.rstrip("/")
    if method == "POST" and path in _OPERATIONS:
        return Endpoint(_OPERATIONS[path])
    return job_endpoint(method, path, _JOBS) or Endpoint(OTHER)


def usage(endpoint: Endpoint, request: Any, response: Any) -> Usage:
    body = obj(response)
    results = [obj(result) for result in items(body.get("results"))]
    extra: dict[str, ExtraValue | None] = {}
    if endpoint.operation in ("search", "find_similar"):
        extra["search_type"] = body.get("resolvedSearchType") or obj(request).get("type")
        extra["results"] = len(results)
    elif endpoint.operation == "contents":
        extra["pages"] = len(results)
    summaries = sum(1 for result in results if result.get("summary"))
    if summaries:
        extra["summaries"] = summaries
    return Usage.parse(reported_cost=dig(body, "costDollars", "total"), extra=extra)


def final_event(event: Any) -> Any:
    """Streamed searches and answers send `costDollars` on their last event."""
    return event if obj(event).get("costDollars") is not None else None


def failure(endpoint: Endpoint, response: Any) -> str | None:
    return job_failure(endpoint, response, _FAILED)


def job_id(response: Any) -> str | None:
    found = obj(response).get("researchId") or obj(response).get("id")
    return found if isinstance(found, str) and found else None


def job_finished(response: Any) -> bool:
    return obj(response).get("status") in _FINISHED
