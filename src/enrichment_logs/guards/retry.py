"""Retrying a call's transient failures with tenacity: backoff with full jitter, `Retry-After`.

One logical call, many attempts, one row: the attempts run inside the call's `ToolCall`, each is
an `enrichment.attempt` event on its span (number, outcome, and the wait before the next), and
the row's `retry_count` is the number of attempts that were retried. A call that succeeds after
retries is one `success` row, its cost counted once.

Waits: the provider's `Retry-After` (or `retry-after-ms`) when it sends one, as given; otherwise
"full jitter" (a random wait below `base * 2**(n-1)`, capped at `max_wait`), which spreads
concurrent callers apart (tenacity's `wait_random_exponential`). Bounds: `attempts` in all, and
no retry whose wait would end more than `total` after the first attempt started.

tenacity rather than a loop of our own: it is well kept, has both the sync and asyncio forms,
and its stop and wait strategies compose; the cost of building a `Retrying` per call (a few
microseconds) only applies to calls that retries were asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from enrichment_logs import semconv
from enrichment_logs.guards.failures import Failure, failure_of_exception
from enrichment_logs.guards.settings import RetryRule
from enrichment_logs.tracing.tool_call import ToolCall

R = TypeVar("R")

Judge = Callable[[Any], Failure | None]
"""Whether an attempt's result (an HTTP response) is a transient failure to retry."""


def _no_failure(result: object) -> Failure | None:
    return None


def _nothing_to_release(result: object) -> None:
    return None


class _Attempts:
    """Tenacity's strategies for one call, and what they record on its span."""

    def __init__(self, rule: RetryRule, call: ToolCall, judge: Judge) -> None:
        self.rule = rule
        self.call = call
        self.judge = judge
        self._jitter = wait_random_exponential(
            multiplier=rule.base_seconds, max=rule.max_wait_seconds
        )

    def options(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.rule.attempts)
            | stop_before_delay(self.rule.total_seconds),
            "wait": self.wait,
            "retry": retry_if_exception(lambda error: failure_of_exception(error) is not None)
            | retry_if_result(lambda result: self.judge(result) is not None),
            "retry_error_callback": _last_outcome,
        }

    def failure(self, state: RetryCallState) -> Failure | None:
        outcome = state.outcome
        if outcome is None:
            return None
        if outcome.failed:
            error = outcome.exception()
            return failure_of_exception(error) if error is not None else None
        return self.judge(outcome.result())

    def wait(self, state: RetryCallState) -> float:
        failure = self.failure(state)
        if failure is not None and failure.retry_after is not None:
            return failure.retry_after
        return float(self._jitter(state))

    def record_retry(self, state: RetryCallState) -> None:
        """An attempt failed and another follows after `upcoming_sleep` seconds."""
        failure = self.failure(state)
        self.call.span.add_event(
            semconv.ATTEMPT_EVENT,
            {
                semconv.ATTEMPT_NUMBER: state.attempt_number,
                semconv.ATTEMPT_OUTCOME: failure.reason if failure else "failed",
                semconv.ATTEMPT_WAIT_SECONDS: round(state.upcoming_sleep, 3),
            },
        )

    def record_last(self, attempts: int, outcome: str) -> None:
        self.call.span.add_event(
            semconv.ATTEMPT_EVENT,
            {semconv.ATTEMPT_NUMBER: attempts, semconv.ATTEMPT_OUTCOME: outcome},
        )
        if attempts > 1:
            self.call.set_attribute(semconv.RETRY_COUNT, attempts - 1)

    def outcome_of(self, result: object) -> str:
        failure = self.judge(result)
        return failure.reason if failure else "success"


def _last_outcome(state: RetryCallState) -> Any:
    """When attempts run out: the last result (a failed response), or its exception raised."""
    assert state.outcome is not None
    return state.outcome.result()


def run(
    rule: RetryRule,
    call: ToolCall,
    attempt: Callable[[], R],
    judge: Judge = _no_failure,
    discard: Callable[[Any], object] = _nothing_to_release,
) -> R:
    """`attempt()` until it succeeds or the rule's bounds are reached; `discard` releases a
    failed result (closes an HTTP response) before the next attempt."""
    attempts = _Attempts(rule, call, judge)

    def before_sleep(state: RetryCallState) -> None:
        attempts.record_retry(state)
        if state.outcome is not None and not state.outcome.failed:
            discard(state.outcome.result())

    retrying = Retrying(before_sleep=before_sleep, **attempts.options())
    try:
        result = retrying(attempt)
    except BaseException as error:
        attempts.record_last(retrying.statistics.get("attempt_number", 1), type(error).__name__)
        raise
    attempts.record_last(retrying.statistics.get("attempt_number", 1), attempts.outcome_of(result))
    return result


async def run_async(
    rule: RetryRule,
    call: ToolCall,
    attempt: Callable[[], Awaitable[R]],
    judge: Judge = _no_failure,
    discard: Callable[[Any], Awaitable[object] | None] = _nothing_to_release,
) -> R:
    """`run` for coroutines: waits with `asyncio.sleep`, so other tasks go on meanwhile."""
    attempts = _Attempts(rule, call, judge)

    async def before_sleep(state: RetryCallState) -> None:
        attempts.record_retry(state)
        if state.outcome is not None and not state.outcome.failed:
            released = discard(state.outcome.result())
            if released is not None:
                await released

    async def attempt_once() -> R:  # tenacity awaits only what is a coroutine function
        return await attempt()

    retrying = AsyncRetrying(before_sleep=before_sleep, **attempts.options())
    try:
        result: R = await retrying(attempt_once)
    except BaseException as error:
        attempts.record_last(retrying.statistics.get("attempt_number", 1), type(error).__name__)
        raise
    attempts.record_last(retrying.statistics.get("attempt_number", 1), attempts.outcome_of(result))
    return result
