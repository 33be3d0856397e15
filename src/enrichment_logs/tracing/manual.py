"""The seed's logging API, for code that cannot use a decorator.

`start_enrichment_log` returns a log id; `complete_enrichment_log` or `fail_enrichment_log` may
run in another function, thread or task. The calls are `ToolCall`s like the decorator's, so the
rows are identical. A log id that is unknown or already ended gets a warning, never an exception:
logging must not break the pipeline.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from enrichment_logs.guards import gate as guards
from enrichment_logs.tracing.record import usage_from_values
from enrichment_logs.tracing.tool_call import NOT_GIVEN, ToolCall, current_call, restore_current

_log = logging.getLogger("enrichment_logs")
_open_calls: dict[str, tuple[ToolCall, ToolCall | None]] = {}
_open_lock = threading.Lock()


def start_enrichment_log(
    *,
    provider: str,
    operation: str,
    lead_id: str | None = None,
    company_id: str | None = None,
    request_data: Any = NOT_GIVEN,
    model: str | None = None,
) -> str:
    """Start logging a call and return its log id. Until it ends, `record_usage` applies to it.

    With budgets or breakers on, call it before sending the request: a refused call raises
    `BudgetExceeded` or `CircuitOpenError` here (its row is `rejected`), so nothing is sent.
    """
    call = ToolCall(
        provider,
        operation,
        model=model,
        lead_id=lead_id,
        company_id=company_id,
        request=request_data,
    )
    gate = guards.active
    if gate is not None and gate.admits:
        gate.admit(call, model=model)
    previous = current_call()
    call.make_current()
    with _open_lock:
        _open_calls[call.log_id] = (call, previous)
    return call.log_id


def complete_enrichment_log(
    log_id: str,
    response_data: Any = None,
    tokens_used: int | None = None,
    cost: float | str | None = None,
    **usage: Any,
) -> None:
    """End the call as a success. `cost` is the provider-reported cost; `usage` takes
    `record_usage`'s keywords; `tokens_used` alone is kept when no split is known."""
    call = _take(log_id, "complete_enrichment_log")
    if call is None:
        return
    values = dict(usage)
    if cost is not None:
        values["cost"] = cost
    if tokens_used is not None:
        values["tokens_used"] = tokens_used
    call.record_usage(usage_from_values(values))
    call.succeed(NOT_GIVEN if response_data is None else response_data)


def fail_enrichment_log(log_id: str, error_message: str, retry_count: int = 0) -> None:
    """End the call as an error with its message and how many retries preceded the failure."""
    call = _take(log_id, "fail_enrichment_log")
    if call is not None:
        call.fail(error_message, retry_count=retry_count)


def end_open_logs() -> int:
    """End every call still open (at shutdown) as an error, so no started call is lost."""
    with _open_lock:
        calls = [call for call, _ in _open_calls.values()]
        _open_calls.clear()
    for call in calls:
        call.fail("never completed: the process shut down first", status="error")
    return len(calls)


def _take(log_id: str, caller: str) -> ToolCall | None:
    with _open_lock:
        entry = _open_calls.pop(log_id, None)
    if entry is None:
        _log.warning("%s(%r): no open log with this id (unknown or already ended)", caller, log_id)
        return None
    call, previous = entry
    restore_current(call, previous)
    return call
