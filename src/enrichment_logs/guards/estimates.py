"""What a call is expected to cost before it runs: the amount a budget reserves for it.

The budget guarantee (spend never passes a hard limit) holds when estimates are not below real
costs, so the rule leans high. The first that applies:

1. the call's fixed cost (`@tool(cost=0.01)`);
2. a configured estimate: `PROVIDER.OPERATION.estimate`, then `PROVIDER.estimate`;
3. the highest real cost among the last 50 calls of this provider and operation (restored from the
   log at start);
4. the price table's price of a minimal call (an Exa search, a one-page Firecrawl scrape);
5. the configured `estimate`, else $0.01 (an LLM call with no history: its tokens are unknown).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from enrichment_logs.pricing.usage import Pricer, Usage

DEFAULT_ESTIMATE: Final = Decimal("0.01")
RECENT_CALLS: Final = 50


class CostEstimates:
    """Estimates per provider and operation; `observe` feeds it the real costs as calls end."""

    def __init__(self, configured: Mapping[str, Decimal], pricer: Pricer) -> None:
        self._configured = dict(configured)
        self._pricer = pricer
        self._lock = threading.Lock()
        self._recent: dict[tuple[str, str], deque[Decimal]] = {}
        self._table: dict[tuple[str, str, str | None], Decimal | None] = {}

    def estimate(
        self, provider: str, operation: str, model: str | None, fixed: Decimal | None = None
    ) -> Decimal:
        if fixed is not None:
            return fixed
        configured = self._configured.get(f"{provider}.{operation}")
        if configured is None:
            configured = self._configured.get(provider)
        if configured is not None:
            return configured
        with self._lock:
            recent = self._recent.get((provider, operation))
            if recent:
                return max(recent)
        listed = self._price_table(provider, operation, model)
        if listed is not None:
            return listed
        return self._configured.get("", DEFAULT_ESTIMATE)

    def observe(self, provider: str, operation: str, cost: Decimal) -> None:
        """A real cost, from a call that ended or from the log."""
        with self._lock:
            recent = self._recent.get((provider, operation))
            if recent is None:
                recent = self._recent[(provider, operation)] = deque(maxlen=RECENT_CALLS)
            recent.append(cost)

    def _price_table(self, provider: str, operation: str, model: str | None) -> Decimal | None:
        key = (provider, operation, model)
        if key not in self._table:
            try:
                cost = self._pricer.price(
                    provider, operation, Usage(model=model), datetime.now(UTC)
                )
                self._table[key] = cost.amount if cost.amount else None
            except Exception:  # a pricer must not raise; if one does, fall back to the default
                self._table[key] = None
        return self._table[key]
