"""Pricing: what a paid call cost in USD, and where that price came from.

- `usage`: the contract. `Usage` (what a call consumed), `Cost`, the `Pricer` protocol.
- `engine`: `CostEngine`, the `Pricer`. Provider-reported cost, then the user's override file,
  then our price tables, else unknown (never $0).
- `llm`: token prices from genai-prices, with cached lookups.
- `price_table` and `prices.toml`: our dated prices for everything genai-prices does not cover
  (Exa, Firecrawl, Perplexity tool and request fees).
- `overrides`: the user's price override file and its format.

Import `CostEngine` from `enrichment_logs.pricing.engine`. It is not re-exported here because it
loads genai-prices (about 0.2 s to import, 0.2 s more for its data on the first price), a cost that
code which only records usage should not pay.
"""
