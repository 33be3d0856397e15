"""Running totals of an enrichment session: what its tool calls used and cost.

Tool calls hand their final attributes over when they end (a list append under a lock, on
whichever thread ended them); the session prices them once, when it closes, through the same
`call_cost` rule and cost engine as the exporter, so its total equals the sum of its rows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from opentelemetry.util.types import AttributeValue

from enrichment_logs.pricing.call_cost import call_cost
from enrichment_logs.pricing.usage import Pricer, Usage


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """An ended tool call as its row will see it: its final attributes and start time."""

    attributes: Mapping[str, AttributeValue]
    status: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """The totals a closed session reports. `cost` sums the known costs only."""

    calls: int
    cost: Decimal
    unknown_cost_calls: int
    input_tokens: int
    output_tokens: int


class SessionTotals:
    """Collects the ended tool calls of one session, from any thread or task."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[FinishedCall] = []

    def add(self, call: FinishedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def summarize(self, pricer: Pricer) -> SessionSummary:
        with self._lock:
            calls = list(self._calls)
        usages = [Usage.from_attributes(call.attributes) for call in calls]
        costs = [
            call_cost(call.attributes, usage, call.status, pricer, call.started_at, {})
            for call, usage in zip(calls, usages, strict=True)
        ]
        known = [cost.amount for cost in costs if cost.amount is not None]
        return SessionSummary(
            calls=len(calls),
            cost=sum(known, Decimal(0)),
            unknown_cost_calls=len(costs) - len(known),
            input_tokens=sum(usage.input_tokens or 0 for usage in usages),
            output_tokens=sum(usage.output_tokens or 0 for usage in usages),
        )
