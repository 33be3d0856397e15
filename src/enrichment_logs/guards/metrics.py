"""The guards' metric instruments (`enrichment_logs.budget.*`, `enrichment_logs.breaker.*`).

Created at import on the global meter `enrichment_logs`, a no-op until a MeterProvider is set
(by `configure()` or the application), like the tool-call metrics in `enrichment_logs.metrics`.
The gauges are observed from the active gate when a reader collects. Labels are low-cardinality
only: a per-lead limit is one series (`scope="lead"`), whose `spent` is the highest spend of any
lead in the period (the lead closest to the limit); lead ids stay in the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from enrichment_logs.guards.breaker import STATE_VALUES, CircuitBreaker
from enrichment_logs.guards.budget import Account

_meter = metrics.get_meter("enrichment_logs")

PERIOD: Final = "period"
SCOPE: Final = "scope"
PROVIDER: Final = "provider"
OPERATION: Final = "operation"
THRESHOLD: Final = "threshold"
STATE: Final = "state"

budget_warnings = _meter.create_counter(
    "enrichment_logs.budget.warnings",
    unit="{warning}",
    description="Budget warnings fired (each threshold once per limit and period).",
)
breaker_transitions = _meter.create_counter(
    "enrichment_logs.breaker.transitions",
    unit="{transition}",
    description="Circuit breaker state changes, by the state entered.",
)

_accounts: Callable[[], list[Account]] = list
_breakers: Callable[[], list[CircuitBreaker]] = list


def observe(
    accounts: Callable[[], list[Account]], breakers: Callable[[], list[CircuitBreaker]]
) -> None:
    """Where the gauges read from: the active gate's budgets and breakers."""
    global _accounts, _breakers
    _accounts, _breakers = accounts, breakers


def budget_labels(account: Account) -> dict[str, str]:
    limit = account.limit
    return {PERIOD: limit.period, SCOPE: limit.scope, PROVIDER: limit.provider}


def _per_limit(values: Iterable[tuple[Account, float]]) -> list[Observation]:
    """One observation per limit: a lead limit's is the highest of its leads'."""
    highest: dict[tuple[str, str, str], float] = {}
    labels: dict[tuple[str, str, str], dict[str, str]] = {}
    for account, value in values:
        key = (account.limit.period, account.limit.scope, account.limit.provider)
        labels[key] = budget_labels(account)
        highest[key] = max(value, highest.get(key, 0.0))
    return [Observation(value, labels[key]) for key, value in highest.items()]


def _spent(options: CallbackOptions) -> list[Observation]:
    return _per_limit((account, float(account.spent)) for account in _accounts())


def _limit(options: CallbackOptions) -> list[Observation]:
    return _per_limit((account, float(account.limit.amount)) for account in _accounts())


def _breaker_states(options: CallbackOptions) -> list[Observation]:
    return [
        Observation(
            STATE_VALUES[breaker.state],
            {PROVIDER: breaker.provider, OPERATION: breaker.operation},
        )
        for breaker in _breakers()
    ]


_meter.create_observable_gauge(
    "enrichment_logs.budget.spent",
    callbacks=[_spent],
    unit="USD",
    description="Spend in the current UTC day or month, per budget limit.",
)
_meter.create_observable_gauge(
    "enrichment_logs.budget.limit",
    callbacks=[_limit],
    unit="USD",
    description="The amount of each budget limit.",
)
_meter.create_observable_gauge(
    "enrichment_logs.breaker.state",
    callbacks=[_breaker_states],
    unit="",  # not "1": the Collector's Prometheus names would add `_ratio`
    description="Circuit breaker state: 0 closed, 1 half-open, 2 open.",
)
