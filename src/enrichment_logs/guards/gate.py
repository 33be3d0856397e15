"""The gate every guarded call passes: the cache first, then breakers and budgets; settled at end.

Call paths (the `@tool` decorator, the seed's API, the OpenAI SDK wrappers, the HTTP wrappers)
consult `active` right after starting their `ToolCall`; None, the default, means no guard is
configured and costs one global lookup. Otherwise, in order:

1. `cached(call, key, ttl)`: a fresh cached response ends the call as `cached` (cost 0, the cost
   it saved) before any other guard: a hit spends nothing, so no budget or breaker refuses it.
2. `admit(call)`: the breaker of the call's provider, then the budgets (a reservation of the
   estimated cost). A refusal ends the call as `rejected` and raises `CircuitOpenError` or
   `BudgetExceeded` to the caller; no request is sent.
3. `retry_rule(provider)`: the path's sending is retried (`retry.py`).
4. When the call ends, however it ends, `ToolCall.end` hands its final attributes to the ticket:
   the call is priced with the rule rows use (`call_cost`, ~6-15 us on this thread, paid only by
   guarded calls), the reservation becomes the real cost, the breaker learns the outcome, and a
   successful response waiting for the cache is stored with what it cost.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from enrichment_logs import semconv
from enrichment_logs.config import Settings
from enrichment_logs.guards import metrics
from enrichment_logs.guards.breaker import Breakers, Pass, Transition
from enrichment_logs.guards.budget import BudgetBook, BudgetRefusal, BudgetWarning, Reservation
from enrichment_logs.guards.cache import CachedResponse, ResponseCache
from enrichment_logs.guards.errors import CallRefused, CircuitOpenError, usd
from enrichment_logs.guards.estimates import CostEstimates
from enrichment_logs.guards.failures import failure_of_exception, is_transient_status
from enrichment_logs.guards.restore import LogHeldElsewhere, RestoredSpend, restore_or_start_empty
from enrichment_logs.guards.settings import RetryRule, cache_ttl
from enrichment_logs.pricing.call_cost import call_cost
from enrichment_logs.pricing.usage import Pricer, Usage
from enrichment_logs.tracing.session_totals import FinishedCall
from enrichment_logs.tracing.tool_call import ToolCall

if TYPE_CHECKING:
    from enrichment_logs.export.exporter import DuckDBSpanExporter

_log = logging.getLogger("enrichment_logs.guards")


def guards_configured(settings: Settings) -> bool:
    """Whether any guard is on; with none, no gate is made and calls pay nothing."""
    return bool(settings.budgets or settings.breaker or settings.retry or settings.cache)


class Ticket:
    """An admitted call's guard state, settled once when the call ends."""

    __slots__ = ("call", "error", "estimate", "gate", "passed", "pending", "reservation")

    def __init__(
        self,
        gate: Gate,
        call: ToolCall,
        passed: Pass | None,
        reservation: Reservation | None,
        estimate: Decimal | None,
    ) -> None:
        self.gate = gate
        self.call = call
        self.passed = passed
        self.reservation = reservation
        self.estimate = estimate
        self.error: BaseException | None = None
        self.pending: tuple[str, CachedResponse] | None = None

    def failed(self, error: BaseException) -> None:
        """The exception the call failed with (breakers count transient ones)."""
        self.error = error

    def keep_for_cache(self, key: str, response: CachedResponse) -> None:
        """Store `response` under `key` if the call ends as a success."""
        self.pending = (key, response)

    def settle(self, finished: FinishedCall) -> None:
        self.gate.settle(self, finished)


class Gate:
    """Budgets, breakers, retries and the cache of one `configure()`."""

    def __init__(
        self,
        settings: Settings,
        pricer: Pricer,
        restored: RestoredSpend | None = None,
    ) -> None:
        self.settings = settings
        self._pricer = pricer
        self.book = (
            BudgetBook(
                settings.budgets.limits,
                settings.budget_warnings,
                enforce=settings.budget_enforce,
            )
            if settings.budgets
            else None
        )
        self.estimates = CostEstimates(settings.budgets.estimates, pricer)
        self.breakers = Breakers(settings.breaker) if settings.breaker else None
        self.cache = ResponseCache(settings.resolved_cache_path)  # opened on first use
        if restored is not None:
            if self.book is not None:
                self.book.restore("day", restored.day)
                self.book.restore("month", restored.month)
            for (provider, operation), cost in restored.recent_highest.items():
                self.estimates.observe(provider, operation, cost)

    @property
    def admits(self) -> bool:
        """Whether calls need admitting (budgets or breakers are on)."""
        return self.book is not None or self.breakers is not None

    # --- before the request --------------------------------------------------------------------
    def cache_ttl(self, provider: str, operation: str) -> float | None:
        return cache_ttl(self.settings.cache, provider, operation)

    def cached(self, call: ToolCall, key: str, ttl: float) -> CachedResponse | None:
        """A fresh response for `key`: the call is marked a cache hit; the path ends it as
        `cached` with that response."""
        response = self.cache.get(key, ttl)
        if response is not None:
            call.set_attribute(semconv.CACHE_HIT, True)
            if response.cost is not None:
                call.set_attribute(semconv.COST_SAVED, str(response.cost))
        return response

    def admit(
        self, call: ToolCall, *, model: str | None = None, fixed_cost: Decimal | None = None
    ) -> Ticket:
        """Let the call through (its ticket is `call.guard`) or end it as `rejected` and raise
        `CircuitOpenError` / `BudgetExceeded`."""
        passed = reservation = estimate = None
        try:
            if self.breakers is not None:
                passed = self.breakers.admit(call.provider, call.operation)
            if self.book is not None:
                estimate = self.estimates.estimate(call.provider, call.operation, model, fixed_cost)
                try:
                    reservation = self.book.reserve(
                        call.provider, call.operation, call.lead_id, estimate
                    )
                except BudgetRefusal as refusal:
                    if passed is not None:
                        passed.breaker.cancel(passed)
                    self._warn(call, refusal.warnings)
                    raise refusal.error from None
        except CallRefused as refused:
            if isinstance(refused, CircuitOpenError):
                call.set_attribute(semconv.BREAKER_STATE, "open")
            call.fail(refused, status="rejected")
            raise
        if passed is not None and passed.probe:
            call.set_attribute(semconv.BREAKER_STATE, "half_open")
        if passed is not None and passed.transition is not None:
            self._transition(call, passed.transition)
        if estimate is not None:
            call.set_attribute(semconv.BUDGET_ESTIMATE, str(estimate))
        ticket = Ticket(self, call, passed, reservation, estimate)
        call.guard = ticket
        return ticket

    def retry_rule(self, provider: str) -> RetryRule | None:
        """The retry rule of the provider's calls, if retries are on for it."""
        rules = self.settings.retry
        rule = rules.for_provider(provider) if rules is not None else None
        return rule if rule is not None and rule.attempts > 1 else None

    # --- after the call ----------------------------------------------------------------------
    def settle(self, ticket: Ticket, finished: FinishedCall) -> None:
        """Never raises: the call has ended, whatever happens here."""
        call = ticket.call
        try:
            attributes, status = finished.attributes, finished.status
            usage = Usage.from_attributes(attributes)
            cost = call_cost(attributes, usage, status, self._pricer, finished.started_at, {})
            if status == "success" and cost.amount is not None:
                self.estimates.observe(call.provider, call.operation, cost.amount)
            if ticket.reservation is not None and self.book is not None:
                actual = cost.amount
                if actual is None:  # a success of unknown cost keeps its estimate
                    actual = ticket.estimate if status == "success" else None
                    actual = actual or Decimal(0)
                self._warn(call, self.book.settle(ticket.reservation, actual))
            if ticket.passed is not None:
                failed = status == "error" and _provider_failure(ticket.error, attributes)
                transition = ticket.passed.breaker.record(ticket.passed, failed)
                if transition is not None:
                    self._transition(call, transition)
            if ticket.pending is not None and status == "success":
                key, response = ticket.pending
                self.cache.put(
                    key,
                    call.provider,
                    call.operation,
                    dataclasses.replace(response, cost=cost.amount),
                )
        except Exception:
            _log.exception("settling the guards of %s failed", call.log_id)

    def close(self) -> None:
        self.cache.close()

    # --- what the guards tell ----------------------------------------------------------------
    def _warn(self, call: ToolCall, warnings: list[BudgetWarning]) -> None:
        """A budget threshold reached: a log line, an event on the call's span, a metric."""
        for warning in warnings:
            account, share = warning.account, warning.threshold
            percent = f"{share * 100:.0f}%"
            _log.warning(
                "budget warning: %s of the %s budget (%s) reached: %s spent",
                percent,
                account.name,
                usd(account.limit.amount),
                usd(warning.spent),
            )
            call.span.add_event(
                semconv.BUDGET_WARNING_EVENT,
                {
                    semconv.BUDGET_LIMIT: account.name,
                    semconv.BUDGET_THRESHOLD: float(share),
                    semconv.BUDGET_SPENT: str(warning.spent),
                    semconv.BUDGET_AMOUNT: str(account.limit.amount),
                },
            )
            metrics.budget_warnings.add(
                1, {**metrics.budget_labels(account), metrics.THRESHOLD: f"{share:f}"}
            )

    def _transition(self, call: ToolCall, transition: Transition) -> None:
        """A breaker changed state: a log line, an event on the call's span, a metric."""
        breaker = transition.breaker
        level = logging.WARNING if transition.state == "open" else logging.INFO
        message = {
            "open": "circuit breaker %s opened (%s): its calls are refused for %gs",
            "half_open": "circuit breaker %s half-open (%s)",
            "closed": "circuit breaker %s closed (%s)",
        }[transition.state]
        arguments: tuple[object, ...] = (breaker.name, transition.reason)
        if transition.state == "open":
            arguments += (breaker.rule.cooldown_seconds,)
        _log.log(level, message, *arguments)
        call.span.add_event(
            semconv.BREAKER_EVENT,
            {
                semconv.BREAKER_STATE: transition.state,
                semconv.BREAKER_NAME: breaker.name,
                semconv.BREAKER_REASON: transition.reason,
            },
        )
        metrics.breaker_transitions.add(
            1,
            {
                metrics.PROVIDER: breaker.provider,
                metrics.OPERATION: breaker.operation,
                metrics.STATE: transition.state,
            },
        )


def _provider_failure(error: BaseException | None, attributes: Mapping[str, object]) -> bool:
    """Whether a failed call counts against its provider's breaker: an exception or HTTP status
    that is transient (see `failures.py`), or a failure given as a message (a job or response
    the provider reported failed, `fail_enrichment_log`). Client errors do not count."""
    if error is not None:
        return failure_of_exception(error) is not None
    status = attributes.get(HTTP_RESPONSE_STATUS_CODE)
    return is_transient_status(status) if isinstance(status, int) else True


def build_gate(settings: Settings, pricer: Pricer, exporter: DuckDBSpanExporter) -> Gate:
    """The gate of a `configure()`. Budgets start from the spend the log holds for today and
    this month (rows a crash left in the spool included)."""
    restored = None
    if settings.budgets:
        exporter.force_flush()

        def query(sql: str, parameters: Sequence[object]) -> list[tuple[Any, ...]]:
            rows = exporter.query(sql, parameters)
            if rows is None:
                raise LogHeldElsewhere(settings.db_path)
            return rows

        restored = restore_or_start_empty(query, settings.db_path, datetime.now(UTC))
    return Gate(settings, pricer, restored)


active: Gate | None = None
"""The gate of the `configure()` in force when it turned a guard on: what instrumented calls
consult. None (no guard) costs them one lookup."""
configured: Gate | None = None
"""The gate of the `configure()` in force, guards on or not: `@tool(cache_ttl=...)` needs its
cache even when the settings name none."""


def install(gate: Gate) -> None:
    global active, configured
    configured = gate
    active = gate if guards_configured(gate.settings) else None
    metrics.observe(
        gate.book.accounts if gate.book is not None else list,
        gate.breakers.all if gate.breakers is not None else list,
    )


def uninstall(gate: Gate | None) -> None:
    global active, configured
    if gate is None:
        return
    if configured is gate:
        active = configured = None
        metrics.observe(list, list)
    gate.close()
