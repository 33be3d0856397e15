"""The exceptions a guarded call raises instead of sending its request.

Both are refusals: the request was never sent, nothing was billed, and the call is still one row
(status `rejected`, cost 0) so the log shows what the pipeline tried to do.
"""

from __future__ import annotations

from decimal import Decimal


def usd(amount: Decimal) -> str:
    """`$0.014`, not `$0.0140000000` (the log's scale) or `$1.4E-2`."""
    text = f"{amount.normalize():f}"
    return f"${text}"


class CallRefused(Exception):
    """A guard refused the call before its request was sent."""

    def __init__(self, message: str, *, provider: str, operation: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.operation = operation


class BudgetExceeded(CallRefused):
    """The call's estimated cost would take a hard budget limit past its amount."""

    def __init__(
        self,
        *,
        provider: str,
        operation: str,
        limit: str,
        amount: Decimal,
        committed: Decimal,
        estimate: Decimal,
    ) -> None:
        super().__init__(
            f"{provider} {operation} refused: the {limit} budget of {usd(amount)} has "
            f"{usd(committed)} spent or reserved, and this call is estimated at {usd(estimate)}",
            provider=provider,
            operation=operation,
        )
        self.limit = limit
        """Which limit: `daily`, `exa monthly`, `lead lead-42 daily`, ..."""
        self.amount = amount
        self.committed = committed
        """Spent so far in the period plus what calls in flight have reserved."""
        self.estimate = estimate


class CircuitOpenError(CallRefused):
    """The provider's circuit breaker is open: it failed repeatedly and is cooling down."""

    def __init__(self, *, provider: str, operation: str, breaker: str, retry_in: float) -> None:
        super().__init__(
            f"{provider} {operation} refused: the {breaker} circuit breaker is open after "
            f"repeated failures; the next call is tried in {retry_in:.1f}s",
            provider=provider,
            operation=operation,
        )
        self.breaker = breaker
        self.retry_in = retry_in
        """Seconds until the breaker lets a probe call through."""
