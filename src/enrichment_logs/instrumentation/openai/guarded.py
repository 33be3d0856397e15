"""Budgets, breakers and retries for OpenAI SDK calls (see `enrichment_logs.guards`).

A call that owns its row is admitted before the SDK sends it: a refusal ends it as `rejected`
and raises `BudgetExceeded` or `CircuitOpenError` to the caller. A call inside a user's `@tool`
(or the seed's API) was admitted as that call.

Retries: the SDK retries 408, 429, 5xx and connection errors itself (`max_retries`, 2 by
default), honouring `Retry-After`, inside the one call we see, so our retries would multiply its
attempts. With the `retry` setting on, enrichment-logs retries an OpenAI call only when its
client does not: `OpenAI(max_retries=0)` or `client.with_options(max_retries=0)`; each attempt is
then an event on the call's span and `retry_count` is in the row. A client that keeps its own
retries is left to them (one warning), and its row is one row whatever the SDK retried.
"""

from __future__ import annotations

import logging
from typing import Any

from enrichment_logs.guards import gate as guards
from enrichment_logs.guards.errors import CallRefused
from enrichment_logs.guards.settings import RetryRule
from enrichment_logs.instrumentation.openai.recording import Recording, report_failure

_log = logging.getLogger("enrichment_logs.guards")
_warned_sdk_retries = False


def guard(recording: Recording, resource: Any) -> RetryRule | None:
    """Admit the call (or raise the refusal); the retry rule when enrichment-logs retries it."""
    gate = guards.active
    if gate is None or not recording.owned:
        return None
    try:
        if gate.admits:
            gate.admit(recording.call)
        rule = gate.retry_rule(recording.call.provider)
        if rule is None or not _sdk_retries(resource):
            return rule
    except CallRefused:
        raise
    except Exception:
        report_failure("guard call")
    return None


def _sdk_retries(resource: Any) -> bool:
    """Whether the client retries by itself (then ours stay off, with one warning)."""
    global _warned_sdk_retries
    retries = getattr(resource._client, "max_retries", 0)
    if not retries:
        return False
    if not _warned_sdk_retries:
        _warned_sdk_retries = True
        _log.warning(
            "enrichment-logs does not retry OpenAI SDK calls whose client retries by itself "
            "(max_retries=%s); create the client with max_retries=0 to use the retry setting",
            retries,
        )
    return True
