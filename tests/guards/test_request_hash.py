"""`request_hash` is one stable identity for identical requests: it must not change between
processes or releases (the log and the cache are keyed on it), nor with JSON key order."""

from __future__ import annotations

from enrichment_logs.guards.request_hash import request_hash


def test_the_hash_of_a_request_is_stable_across_releases():
    assert request_hash("exa", "POST /search", {"query": "Acme news", "numResults": 5}) == (
        "sha256:24c16448b618803127d805ab09847f5bf197242d470ee7dea6318794151fccb9"
    )


def test_form_does_not_matter_but_content_does():
    base = request_hash("firecrawl", "POST /v2/scrape", {"url": "https://acme.example/a", "n": 1})
    assert base == request_hash(
        "firecrawl", "POST /v2/scrape", {"n": 1, "url": "HTTPS://ACME.example/a#top"}
    )
    assert base != request_hash(
        "firecrawl", "POST /v2/scrape", {"url": "https://acme.example/A", "n": 1}
    )
    assert base != request_hash(
        "firecrawl", "POST /v1/scrape", {"url": "https://acme.example/a", "n": 1}
    )
    assert base != request_hash("exa", "POST /v2/scrape", {"url": "https://acme.example/a", "n": 1})


def test_requests_that_are_not_json_get_no_hash():
    assert request_hash("custom", "lookup", {"args": (object(),)}) is None
    assert request_hash("custom", "lookup", {"args": [float("nan")]}) is None
