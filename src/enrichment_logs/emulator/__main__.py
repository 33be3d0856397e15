"""`python -m enrichment_logs.emulator`: serve the emulated providers until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse

from enrichment_logs.emulator.server import ProviderEmulator
from enrichment_logs.stopping import stop_on_signals, wait_until


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m enrichment_logs.emulator",
        description="Serve OpenAI-, Perplexity-, Exa- and Firecrawl-compatible endpoints locally.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose (default)")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    stop = stop_on_signals()
    with ProviderEmulator(
        host=arguments.host, port=arguments.port, seed=arguments.seed
    ) as emulator:
        print(f"openai      {emulator.openai_base_url}")
        print(f"perplexity  {emulator.perplexity_base_url}")
        print(f"exa         {emulator.exa_base_url}")
        print(f"firecrawl   {emulator.firecrawl_base_url}")
        print("Ctrl-C to stop.", flush=True)
        wait_until(stop)


if __name__ == "__main__":
    main()
