"""Budgets that concurrent calls cannot overspend: reserve before the call, settle after it.

Each limit (global, per provider, per lead; per UTC day and per UTC month) is an account holding
what was spent in the current period and what calls in flight have reserved. A call reserves its
estimated cost on every account it counts in, all at once under one lock, and only if each stays
within its limit (`spent + reserved + estimate <= amount`); otherwise it is refused with
`BudgetExceeded` and reserves nothing. When the call ends, its reservation is replaced by its real
cost. So however many threads and tasks race for the last dollar, the calls admitted together
never promise more than the limit, and, as long as estimates are not below real costs (see
`estimates.py`), spend never passes it.

Warnings: each threshold (default 80 % and 100 %) fires once per account and period, when spend
reaches it; 100 % also fires when a call is first refused by the limit, which with enforcement is
how a limit is usually "reached". Periods roll over at UTC midnight and on the first of the month.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from enrichment_logs.guards.errors import BudgetExceeded
from enrichment_logs.guards.settings import BudgetLimit, Period

PeriodId = tuple[int, ...]
"""(year, month, day) for a day, (year, month) for a month."""
ONE = Decimal(1)


def period_id(period: Period, at: datetime) -> PeriodId:
    day = at.astimezone(UTC).date()
    return (day.year, day.month, day.day) if period == "day" else (day.year, day.month)


def period_start(period: Period, at: datetime) -> datetime:
    """The UTC midnight that began `at`'s day or month."""
    day = at.astimezone(UTC).date()
    first = day if period == "day" else date(day.year, day.month, 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


@dataclass(eq=False)
class Account:
    """One limit's money in the current period: for a lead limit, one lead's."""

    limit: BudgetLimit
    key: str
    """The lead id of a lead account; empty otherwise."""
    spent: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    warned: set[Decimal] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.limit.label} (lead {self.key})" if self.key else self.limit.label


@dataclass(frozen=True, slots=True)
class BudgetWarning:
    account: Account
    threshold: Decimal
    spent: Decimal


@dataclass(frozen=True, slots=True)
class Reservation:
    accounts: tuple[Account, ...]
    estimate: Decimal


@dataclass(frozen=True, slots=True)
class Spend:
    """Spend by scope in one period, as restored from the log: `(scope, key) -> USD`, keys
    being `` (global), a provider or a lead id."""

    amounts: Mapping[tuple[str, str], Decimal]


class BudgetBook:
    """Every budget account, thread-safe; `reserve` and `settle` are the only writers."""

    def __init__(
        self,
        limits: Sequence[BudgetLimit],
        thresholds: Sequence[Decimal],
        *,
        enforce: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._limits = tuple(limits)
        self._thresholds = tuple(sorted(thresholds))
        self._enforce = enforce
        self._clock = clock
        self._lock = threading.Lock()
        self._periods: dict[Period, PeriodId] = {}
        self._accounts: dict[tuple[BudgetLimit, str], Account] = {}

    @property
    def limits(self) -> tuple[BudgetLimit, ...]:
        return self._limits

    def restore(self, period: Period, spend: Spend) -> None:
        """Start the current period from what the log says was spent in it."""
        with self._lock:
            self._roll(self._clock())
            for limit in self._limits:
                if limit.period != period:
                    continue
                for (scope, key), amount in spend.amounts.items():
                    if scope == limit.scope and (scope != "provider" or key == limit.provider):
                        account = self._account(limit, key if scope == "lead" else "")
                        account.spent += amount
                        account.warned.update(
                            t for t in self._thresholds if self._reached(account, t)
                        )

    def reserve(
        self, provider: str, operation: str, lead_id: str | None, estimate: Decimal
    ) -> Reservation:
        """Reserve `estimate` on every account the call counts in, or raise `BudgetRefusal`
        (reserving nothing): the `BudgetExceeded` error and the warnings the refusal fired."""
        with self._lock:
            self._roll(self._clock())
            accounts = tuple(self._accounts_of(provider, lead_id))
            if self._enforce:
                for account in accounts:
                    committed = account.spent + account.reserved
                    if committed + estimate > account.limit.amount:
                        warnings = self._refusal_warnings(account)
                        raise BudgetRefusal(
                            BudgetExceeded(
                                provider=provider,
                                operation=operation,
                                limit=account.name,
                                amount=account.limit.amount,
                                committed=committed,
                                estimate=estimate,
                            ),
                            warnings,
                        )
            for account in accounts:
                account.reserved += estimate
        return Reservation(accounts, estimate)

    def settle(self, reservation: Reservation, actual: Decimal) -> list[BudgetWarning]:
        """Replace the reservation by the real cost; the warnings this spend fired."""
        warnings = []
        with self._lock:
            for account in reservation.accounts:  # a rolled-over period's accounts are detached
                account.reserved -= reservation.estimate
                account.spent += actual
                for threshold in self._thresholds:
                    if threshold not in account.warned and self._reached(account, threshold):
                        account.warned.add(threshold)
                        warnings.append(BudgetWarning(account, threshold, account.spent))
        return warnings

    def accounts(self) -> list[Account]:
        """A snapshot of the current period's accounts (for metrics and the CLI)."""
        with self._lock:
            self._roll(self._clock())
            for limit in self._limits:
                if limit.scope != "lead":
                    self._account(limit, "")
            return list(self._accounts.values())

    # --- with the lock held --------------------------------------------------------------------
    def _roll(self, now: datetime) -> None:
        for period in ("day", "month"):
            current = period_id(period, now)
            if self._periods.get(period) != current:
                self._periods[period] = current
                self._accounts = {
                    key: account
                    for key, account in self._accounts.items()
                    if account.limit.period != period
                }

    def _accounts_of(self, provider: str, lead_id: str | None) -> Iterator[Account]:
        for limit in self._limits:
            if limit.scope == "global" or (
                limit.scope == "provider" and limit.provider == provider
            ):
                yield self._account(limit, "")
            elif limit.scope == "lead" and lead_id:
                yield self._account(limit, lead_id)

    def _account(self, limit: BudgetLimit, key: str) -> Account:
        account = self._accounts.get((limit, key))
        if account is None:
            account = self._accounts[(limit, key)] = Account(limit, key)
        return account

    def _reached(self, account: Account, threshold: Decimal) -> bool:
        return account.spent > 0 and account.spent >= account.limit.amount * threshold

    def _refusal_warnings(self, account: Account) -> list[BudgetWarning]:
        """A refused call means the limit is reached: the 100 % warning, once."""
        if ONE not in self._thresholds or ONE in account.warned:
            return []
        account.warned.add(ONE)
        return [BudgetWarning(account, ONE, account.spent)]


class BudgetRefusal(Exception):
    """`BudgetExceeded` plus the warnings it fired, carried out of the lock to the gate."""

    def __init__(self, error: BudgetExceeded, warnings: list[BudgetWarning]) -> None:
        super().__init__(str(error))
        self.error = error
        self.warnings = warnings
