"""The cost of one tool call, read from its span attributes: the one rule rows and sessions share.

Rows (in the exporter) and session totals (when a session closes) both price a call from the
attributes its span ended with, through this function, so a session's total always equals the
sum of its rows. The rule, in order:

0. a call that sent no request costs 0: served from the response cache (`cached`) or refused by a
   budget or circuit breaker (`rejected`); source `override`, the reason says which;
1. a cost known at the call (`enrichment.cost` with source `provider` or `override`);
2. a failed call that reported no usage: unknown (whether it was billed cannot be known, and
   neither 0 nor a guessed per-request price is honest);
3. whatever the pricer makes of the usage; a pricer that raises gives an unknown cost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from enrichment_logs import semconv
from enrichment_logs.pricing.usage import Cost, Pricer, Usage, to_decimal

_log = logging.getLogger("enrichment_logs.pricing")
_KNOWN_AT_THE_CALL = ("provider", "override")
_NOT_SENT = {
    "cached": "served from the response cache: nothing was billed",
    "rejected": "refused before sending: nothing was billed",
}


def call_cost(
    attributes: Mapping[str, object],
    usage: Usage,
    status: str,
    pricer: Pricer,
    started_at: datetime,
    invalid: dict[str, str],
) -> Cost:
    """The call's cost; unusable cost attributes are noted in `invalid`."""
    if status in _NOT_SENT:
        return Cost(Decimal(0), "override", reason=_NOT_SENT[status])
    source = attributes.get(semconv.COST_SOURCE)
    if source in _KNOWN_AT_THE_CALL:
        amount = to_decimal(attributes.get(semconv.COST), semconv.COST, invalid)
        if amount is not None:
            version = attributes.get(semconv.PRICE_VERSION)
            return Cost(
                amount,
                "provider" if source == "provider" else "override",
                price_version=version if isinstance(version, str) else None,
                reason="reported by the provider" if source == "provider" else "set by the caller",
            )
    if status == "error" and _nothing_measured(usage):
        return Cost(None, "unknown", reason="the call failed and reported no usage")
    provider = _text(attributes, semconv.PROVIDER, semconv.GEN_AI_PROVIDER_NAME) or "unknown"
    operation = _text(attributes, semconv.OPERATION, semconv.GEN_AI_OPERATION_NAME) or "unknown"
    try:
        cost = pricer.price(provider, operation, usage, started_at)
    except Exception as error:  # a pricer must not raise; if one does, the call is still logged
        _log.debug("pricing failed for %s %s", provider, operation, exc_info=True)
        return Cost(None, "unknown", reason=f"pricer failed: {_describe(error)}")
    if not isinstance(cost, Cost):
        return Cost(None, "unknown", reason=f"the pricer returned {type(cost).__name__}")
    return cost


def _nothing_measured(usage: Usage) -> bool:
    return (
        usage.total_tokens is None
        and usage.credits is None
        and usage.reported_cost is None
        and not usage.extra
    )


def _text(attributes: Mapping[str, object], *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _describe(error: BaseException) -> str:
    """`Type: message` of an exception whose `str()` may itself fail."""
    try:
        detail = str(error)
    except Exception:
        detail = ""
    return (f"{type(error).__name__}: {detail}" if detail else type(error).__name__)[:500]
