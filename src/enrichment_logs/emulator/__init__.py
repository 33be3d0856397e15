"""Local stand-ins for the paid APIs: OpenAI, Perplexity, Exa and Firecrawl on 127.0.0.1.

Tests and the demo must never call a paid API, yet must exercise the official SDKs with the real
response shapes, usage fields and cost fields. The emulator serves those shapes over HTTP, with
usage derived deterministically from each request, and injects faults on demand.

Usage::

    from enrichment_logs.emulator import ProviderEmulator

    with ProviderEmulator(seed=1) as emulator:
        client = openai.OpenAI(api_key="test", base_url=emulator.openai_base_url)
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
        emulator.script("exa", [429, 200], retry_after=1)
        assert emulator.count("openai", "/v1/chat/completions") == 1

Base URLs: `OpenAI(base_url=emulator.openai_base_url)`,
`Perplexity(base_url=emulator.perplexity_base_url)` (or the OpenAI SDK with
`base_url=emulator.perplexity_base_url + "/v1"` for the Agent API),
`Exa(api_key, base_url=emulator.exa_base_url)` (`AsyncExa(api_key, api_base=...)`),
`Firecrawl(api_key, api_url=emulator.firecrawl_base_url)`.

Manual use: ``python -m enrichment_logs.emulator --port 8787``.
"""

from enrichment_logs.emulator.faults import Malformed, ScriptStep
from enrichment_logs.emulator.request_log import RecordedRequest
from enrichment_logs.emulator.server import ProviderEmulator

__all__ = ["Malformed", "ProviderEmulator", "RecordedRequest", "ScriptStep"]
