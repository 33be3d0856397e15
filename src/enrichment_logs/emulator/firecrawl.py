"""Firecrawl v2: `/v2/scrape`, `/v2/search`, `/v2/map`, `/v2/crawl` and `/v2/crawl/{id}`.

Firecrawl bills in credits and reports them where providers.md says it does (billing page,
2026-08): a scrape's `data.metadata.creditsUsed` (1 per page, +4 with the `json` format), a
search's top-level `creditsUsed` (2 per 10 results, rounded up, plus the scrape cost of each
scraped result), a finished crawl's `creditsUsed`; a map costs 1 credit and reports none. A crawl
finishes at once, so the SDK's waiter returns on its first status poll.
"""

from __future__ import annotations

import math
import time
from typing import Any

from enrichment_logs.emulator.state import EmulatorState
from enrichment_logs.emulator.text import page_title, page_url, sentence, slug
from enrichment_logs.emulator.wire import Call, Provider, Reply, Route, has_bearer_token, json_reply

PAGE_CREDITS = 1
JSON_FORMAT_CREDITS = 4
SEARCH_CREDITS_PER_10_RESULTS = 2
DEFAULT_SEARCH_LIMIT = 5
DEFAULT_CRAWL_LIMIT = 5
DEFAULT_MAP_LIMIT = 10
MAX_LIMIT = 100
JOB_LIFETIME_SECONDS = 24 * 3600
_SCHEMA_PLACEHOLDERS: dict[str, Any] = {
    "string": "emulated",
    "number": 0,
    "integer": 0,
    "boolean": False,
    "array": [],
    "object": {},
}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"success": False, "error": message}


def _bad_request(message: str) -> Reply:
    return json_reply(_error(400, message), 400)


def _formats(options: Any) -> list[Any]:
    """The requested formats (strings or `{"type": ...}` objects); markdown by default."""
    formats = options.get("formats") if isinstance(options, dict) else None
    return formats if isinstance(formats, list) and formats else ["markdown"]


def _format_names(formats: list[Any]) -> set[str]:
    return {str(item.get("type") if isinstance(item, dict) else item) for item in formats}


def _page_credits(formats: list[Any]) -> int:
    return PAGE_CREDITS + (JSON_FORMAT_CREDITS if "json" in _format_names(formats) else 0)


def _json_content(formats: list[Any]) -> Any:
    """What LLM extraction returns: the schema's properties with placeholder values."""
    spec = next(item for item in formats if isinstance(item, dict) and item.get("type") == "json")
    schema = spec.get("schema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return {"answer": sentence(12, "json", spec.get("prompt"))}
    return {
        name: _SCHEMA_PLACEHOLDERS.get(str(field.get("type")) if isinstance(field, dict) else "")
        for name, field in properties.items()
    }


def _document(url: str, title: str, formats: list[Any], state: EmulatorState) -> dict[str, Any]:
    names = _format_names(formats)
    body = sentence(80, "page", url)
    document: dict[str, Any] = {}
    if "markdown" in names:
        document["markdown"] = f"# {title}\n\n{body}\n"
    if "html" in names:
        document["html"] = f"<h1>{title}</h1><p>{body}</p>"
    if "rawHtml" in names:
        document["rawHtml"] = (
            f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"
        )
    if "links" in names:
        document["links"] = [f"{url.rstrip('/')}/{slug(title)}-{index}" for index in range(3)]
    if "summary" in names:
        document["summary"] = sentence(25, "summary", url)
    if "json" in names:
        document["json"] = _json_content(formats)
    document["metadata"] = {
        "title": title,
        "description": sentence(16, "description", url),
        "language": "en",
        "sourceURL": url,
        "url": url,
        "statusCode": 200,
        "contentType": "text/html; charset=utf-8",
        "scrapeId": state.new_uuid(),
        "proxyUsed": "basic",
        "cacheState": "miss",
        "creditsUsed": _page_credits(formats),
    }
    return document


def _limit(call: Call, default: int) -> int | None:
    limit = call.field("limit", default)
    return limit if isinstance(limit, int) and 0 < limit <= MAX_LIMIT else None


def scrape(call: Call, state: EmulatorState) -> Reply:
    url = call.field("url")
    if not isinstance(url, str) or not url.strip():
        return _bad_request("'url' is required.")
    document = _document(url, page_title(url, 0), _formats(call.body), state)
    return json_reply({"success": True, "data": document})


def search(call: Call, state: EmulatorState) -> Reply:
    query, limit = call.field("query"), _limit(call, DEFAULT_SEARCH_LIMIT)
    if not isinstance(query, str) or not query.strip():
        return _bad_request("'query' is required.")
    if limit is None:
        return _bad_request(f"'limit' must be between 1 and {MAX_LIMIT}.")
    credits = math.ceil(limit / 10) * SEARCH_CREDITS_PER_10_RESULTS
    scrape_options = call.field("scrapeOptions")
    web = []
    for index in range(limit):
        url, title = page_url(query, index), page_title(query, index)
        result = {
            "url": url,
            "title": title,
            "description": sentence(20, "snippet", url),
            "position": index + 1,
        }
        if scrape_options is not None:
            formats = _formats(scrape_options)
            result |= _document(url, title, formats, state)
            credits += _page_credits(formats)
        web.append(result)
    return json_reply(
        {"success": True, "data": {"web": web}, "creditsUsed": credits, "id": state.new_uuid()}
    )


def map_site(call: Call, state: EmulatorState) -> Reply:
    url, limit = call.field("url"), _limit(call, DEFAULT_MAP_LIMIT)
    if not isinstance(url, str) or not url.strip():
        return _bad_request("'url' is required.")
    if limit is None:
        return _bad_request(f"'limit' must be between 1 and {MAX_LIMIT}.")
    links = [
        {"url": f"{url.rstrip('/')}/page-{index + 1}", "title": page_title(url, index)}
        for index in range(limit)
    ]
    return json_reply({"success": True, "links": links})


def start_crawl(call: Call, state: EmulatorState) -> Reply:
    """Records a finished job for `get_crawl` to report; the reply only acknowledges it."""
    url, limit = call.field("url"), _limit(call, DEFAULT_CRAWL_LIMIT)
    if not isinstance(url, str) or not url.strip():
        return _bad_request("'url' is required.")
    if limit is None:
        return _bad_request(f"'limit' must be between 1 and {MAX_LIMIT}.")
    formats = _formats(call.field("scrapeOptions"))
    pages = [url] + [f"{url.rstrip('/')}/page-{index}" for index in range(1, limit)]
    documents = [
        _document(page, page_title(url, index), formats, state) for index, page in enumerate(pages)
    ]
    job_id = state.new_uuid()
    expires = time.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + JOB_LIFETIME_SECONDS)
    )
    state.save_job(
        job_id,
        {
            "success": True,
            "status": "completed",
            "completed": limit,
            "total": limit,
            "creditsUsed": limit * _page_credits(formats),
            "expiresAt": expires,
            "next": None,
            "data": documents,
        },
    )
    return json_reply({"success": True, "id": job_id, "url": f"{call.base_url}/v2/crawl/{job_id}"})


def get_crawl(call: Call, state: EmulatorState) -> Reply:
    job = state.job(call.path.rsplit("/", 1)[-1])
    if job is None:
        return json_reply(_error(404, "Job not found"), 404)
    return json_reply(job)


PROVIDER = Provider(
    name="firecrawl",
    routes=(
        Route("POST", "/v2/scrape", scrape),
        Route("POST", "/v2/search", search),
        Route("POST", "/v2/map", map_site),
        Route("POST", "/v2/crawl", start_crawl),
        Route("GET", "/v2/crawl/", get_crawl),
    ),
    error=_error,
    authorized=has_bearer_token,
)
