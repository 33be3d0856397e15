"""Which provider a request goes to, decided by its URL, whatever client sends it.

An OpenAI client whose `base_url` is Perplexity's is a Perplexity call; a proxy or a local
emulator in front of a provider is that provider. Routes are URL prefixes (scheme, host, port,
optional path), matched longest first, so one host can serve several providers under different
paths. The real providers' hosts are built in; users add theirs with the `provider_routes`
setting (`ENRICHMENT_LOGS_PROVIDER_ROUTES="https://proxy.internal/exa=exa,..."`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

ROUTES_VARIABLE = "ENRICHMENT_LOGS_PROVIDER_ROUTES"
DEFAULT_ROUTES: Mapping[str, str] = {
    "https://api.openai.com": "openai",
    "https://api.perplexity.ai": "perplexity",
    "https://api.exa.ai": "exa",
    "https://api.firecrawl.dev": "firecrawl",
}


@dataclass(frozen=True, slots=True)
class Route:
    """A matched request: the provider and the path below the route's prefix."""

    provider: str
    path: str
    """The request path relative to the route (`/search`, `/v2/scrape`, `/v1/chat/completions`)."""


class ProviderRoutes:
    """Longest-prefix matching of request URLs to provider names."""

    MEMO_SIZE = 1024
    """URLs whose match is remembered: a pipeline sends to a handful of endpoints over and over,
    and matching runs on the caller's thread for every call."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        routes = {**DEFAULT_ROUTES, **(extra or {})}
        self._routes = sorted(
            ((_prefix(url), provider) for url, provider in routes.items()),
            key=lambda item: len(item[0][2]),
            reverse=True,
        )
        self._memo: dict[str, Route | None] = {}
        self._joined_memo: dict[tuple[int, str], tuple[object, Route | None]] = {}

    def match(self, url: str) -> Route | None:
        """The provider of `url`, or None for a host that is not a known provider."""
        try:
            return self._memo[url]
        except KeyError:
            pass
        route = self._match(url)
        if len(self._memo) >= self.MEMO_SIZE:
            self._memo.clear()  # URLs with ids in them (job polls) must not grow it forever
        self._memo[url] = route
        return route

    def match_joined(self, base: object, path: str) -> Route | None:
        """`match(f"{base}{path}")`, remembered per `base` object: an SDK client's base URL
        object, whose string costs more than the match itself. The memo holds `base`, so its id
        is not reused while remembered; a client given a new `base_url` has a new object."""
        key = (id(base), path)
        known = self._joined_memo.get(key)
        if known is not None and known[0] is base:
            return known[1]
        route = self.match(f"{base}{path}")
        if len(self._joined_memo) >= self.MEMO_SIZE:
            self._joined_memo.clear()
        self._joined_memo[key] = (base, route)
        return route

    def _match(self, url: str) -> Route | None:
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc.lower())
        path = parts.path or "/"
        for (scheme, netloc, prefix), provider in self._routes:
            if (scheme, netloc) != origin:
                continue
            if path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == "":
                return Route(provider, path[len(prefix.rstrip("/")) :] or "/")
        return None


def _prefix(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"provider route {url!r}: expected a URL like https://host[:port][/path]")
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


def parse_routes(text: str) -> dict[str, str]:
    """`url=provider,url=provider` (the environment variable's form) as a mapping."""
    routes: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        url, separator, provider = item.rpartition("=")
        if not separator or not url or not provider.strip():
            raise ValueError(f"provider route {item!r}: expected URL=PROVIDER")
        _prefix(url)
        routes[url.strip()] = provider.strip()
    return routes


_current: ProviderRoutes | None = None


def set_routes(routes: ProviderRoutes) -> None:
    """Called by `configure()` with the routes of its settings."""
    global _current
    _current = routes


def current_routes() -> ProviderRoutes:
    """The configured routes; without `configure()` (under `opentelemetry-instrument`), the
    built-in hosts plus `ENRICHMENT_LOGS_PROVIDER_ROUTES`."""
    global _current
    if _current is None:
        _current = ProviderRoutes(parse_routes(os.environ.get(ROUTES_VARIABLE, "")))
    return _current
