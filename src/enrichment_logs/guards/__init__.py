"""Cost control of paid calls: budgets, circuit breakers, retries and a response cache.

All opt-in, all set with `configure()` keywords or `ENRICHMENT_LOGS_*` variables (the README's
"Budgets, breakers, retries and caching" has every setting):

- `budgets="daily=50,exa.daily=5,lead.daily=0.50"`: a call that would pass a hard limit is
  refused with `BudgetExceeded` before its request is sent (`budget.py`); warnings at 80 % and
  100 %; spend is restored from the log at start (`restore.py`).
- `breaker="failures=5,window=60s,cooldown=30s"`: a provider that keeps failing is refused with
  `CircuitOpenError` until a probe call succeeds (`breaker.py`).
- `retry="attempts=3"`: 429, 5xx, timeouts and connection errors are retried with backoff and
  jitter, honouring `Retry-After` (`retry.py`); `@tool(retry=...)` for your functions.
- `cache="firecrawl.scrape=1h,exa.search=10m"`: identical requests within the TTL are answered
  from a DuckDB cache (`cache.py`); `@tool(cache_ttl=...)` for your functions.

Refused and cached calls are rows too (status `rejected` / `cached`, cost 0). The gate (`gate.py`)
is what the call paths consult.
"""

from enrichment_logs.guards.errors import BudgetExceeded, CallRefused, CircuitOpenError

__all__ = ["BudgetExceeded", "CallRefused", "CircuitOpenError"]
