"""The four providers' official async clients: the real services with keys, else the emulator.

With `OPENAI_API_KEY`, `PERPLEXITY_API_KEY`, `EXA_API_KEY` and `FIRECRAWL_API_KEY` in the
environment each client talks to its real service; a provider without a key talks to the local
emulator, so the pipeline runs anywhere and never spends money by accident.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from exa_py import AsyncExa
from firecrawl import AsyncFirecrawl
from openai import AsyncOpenAI
from perplexity import AsyncPerplexity

from enrichment_logs.emulator import ProviderEmulator

EMULATOR_KEY = "emulator-key"


@dataclass(frozen=True)
class ProviderClients:
    openai: AsyncOpenAI
    perplexity: AsyncPerplexity
    exa: AsyncExa
    firecrawl: AsyncFirecrawl

    @classmethod
    def from_environment(cls, emulator: ProviderEmulator | None) -> ProviderClients:
        """Real clients for every provider with a key; the emulator for the others."""

        def key(variable: str) -> str | None:
            value = os.environ.get(variable)
            if value:
                return value
            if emulator is None:
                raise RuntimeError(f"{variable} is not set and no emulator is running")
            return None

        openai_key, perplexity_key = key("OPENAI_API_KEY"), key("PERPLEXITY_API_KEY")
        exa_key, firecrawl_key = key("EXA_API_KEY"), key("FIRECRAWL_API_KEY")
        if emulator is None:  # every key is set: key() raised otherwise
            return cls(
                openai=AsyncOpenAI(api_key=openai_key),
                perplexity=AsyncPerplexity(api_key=perplexity_key),
                exa=AsyncExa(exa_key),
                firecrawl=AsyncFirecrawl(api_key=firecrawl_key),
            )
        return cls(
            openai=AsyncOpenAI(api_key=openai_key)
            if openai_key
            else AsyncOpenAI(api_key=EMULATOR_KEY, base_url=emulator.openai_base_url),
            perplexity=AsyncPerplexity(api_key=perplexity_key)
            if perplexity_key
            else AsyncPerplexity(api_key=EMULATOR_KEY, base_url=emulator.perplexity_base_url),
            exa=AsyncExa(exa_key)
            if exa_key
            else AsyncExa(EMULATOR_KEY, api_base=emulator.exa_base_url),
            firecrawl=AsyncFirecrawl(api_key=firecrawl_key)
            if firecrawl_key
            else AsyncFirecrawl(api_key=EMULATOR_KEY, api_url=emulator.firecrawl_base_url),
        )


def emulator_routes(emulator: ProviderEmulator) -> dict[str, str]:
    """Provider routes for the emulator: each prefix stands for a provider's API root."""
    return {
        f"{emulator.base_url}/openai": "openai",
        f"{emulator.base_url}/perplexity": "perplexity",
        f"{emulator.base_url}/exa": "exa",
        emulator.firecrawl_base_url: "firecrawl",
    }
