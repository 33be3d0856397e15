"""A request's provider is decided by where it goes, whatever client sends it."""

from __future__ import annotations

import pytest

import enrichment_logs as el
from enrichment_logs.config import Settings
from enrichment_logs.instrumentation.routes import ProviderRoutes, Route


def test_the_real_provider_hosts_are_known():
    routes = ProviderRoutes()
    assert routes.match("https://api.perplexity.ai/v1/responses") == Route(
        "perplexity", "/v1/responses"
    )
    assert routes.match("https://api.exa.ai/search") == Route("exa", "/search")
    assert routes.match("https://api.firecrawl.dev/v2/scrape") == Route("firecrawl", "/v2/scrape")
    assert routes.match("https://api.openai.com/v1/embeddings") == Route("openai", "/v1/embeddings")
    assert routes.match("https://example.com/search") is None


def test_one_host_can_serve_several_providers_under_path_prefixes():
    routes = ProviderRoutes(
        {
            "http://127.0.0.1:8787/exa": "exa",
            "http://127.0.0.1:8787/perplexity": "perplexity",
            "http://127.0.0.1:8787": "firecrawl",
        }
    )
    assert routes.match("http://127.0.0.1:8787/exa/contents") == Route("exa", "/contents")
    assert routes.match("http://127.0.0.1:8787/perplexity/search") == Route("perplexity", "/search")
    assert routes.match("http://127.0.0.1:8787/v2/map") == Route("firecrawl", "/v2/map")
    assert routes.match("http://127.0.0.1:8787/exactly") == Route("firecrawl", "/exactly")
    assert routes.match("http://127.0.0.1:9999/exa/search") is None


def test_routes_come_from_the_environment():
    settings = Settings.load(
        {},
        {
            "ENRICHMENT_LOGS_PROVIDER_ROUTES": "https://proxy.internal/exa=exa, http://gw:8080=openai"
        },
    )
    assert settings.provider_routes == {
        "https://proxy.internal/exa": "exa",
        "http://gw:8080": "openai",
    }


@pytest.mark.parametrize("value", ["exa", "https://proxy=", "not-a-url=exa"])
def test_a_malformed_route_is_a_clear_error(value):
    with pytest.raises(el.ConfigurationError, match="ENRICHMENT_LOGS_PROVIDER_ROUTES"):
        Settings.load({}, {"ENRICHMENT_LOGS_PROVIDER_ROUTES": value})
