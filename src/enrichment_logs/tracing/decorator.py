"""`@tool`: make any function, sync or async, a logged and priced tool call.

Function composition, not middleware: the wrapper starts a `ToolCall`, runs the function with the
call current (so `record_usage` inside it and spans of the HTTP client nest under it), and ends
the call with the outcome. The function's result and exceptions pass through unchanged; a failure
in an extractor is logged once and never reaches the caller.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar, cast

from enrichment_logs.guards.tool import ToolOptions, guard_tool, tool_request_hash
from enrichment_logs.pricing.usage import Usage, to_decimal
from enrichment_logs.tracing.record import usage_from_values
from enrichment_logs.tracing.tool_call import ToolCall

P = ParamSpec("P")
R = TypeVar("R")

UsageExtractor = Callable[[Any], Usage | Mapping[str, Any] | None]
CostSpec = Callable[[Any], Any] | Decimal | float | int | str | None

_log = logging.getLogger("enrichment_logs")
_failed_extractors: set[str] = set()


def tool(
    provider: str,
    operation: str | None = None,
    *,
    model: str | None = None,
    usage: UsageExtractor | None = None,
    cost: CostSpec = None,
    retry: bool | int | None = None,
    cache_ttl: float | str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Log every call of the decorated function as one tool call of `provider`.

    `operation` defaults to the function's name. `usage` extracts usage from the return value
    (a `Usage`, or a mapping with `record_usage`'s keywords); `cost` is either a function of the
    return value giving the provider-reported cost, or a fixed per-call cost (an override).
    `retry` (True, or a number of attempts) retries transient failures; `cache_ttl` (seconds or
    `"1h"`) answers repeated calls with the same JSON arguments from the cache (see
    `enrichment_logs.guards.tool`).
    """
    fixed_cost = None
    if cost is not None and not callable(cost):
        invalid: dict[str, str] = {}
        fixed_cost = to_decimal(cost, "cost", invalid)
        if fixed_cost is None:
            raise ValueError(f"tool({provider!r}): cost={cost!r} is {invalid['cost']}")
    try:
        options = ToolOptions.of(retry, cache_ttl, fixed_cost)
    except ValueError as error:
        raise ValueError(f"tool({provider!r}): {error}") from None

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"tool() cannot wrap the generator function {func.__qualname__}: the call would "
                "end before its work is done; wrap the function that consumes it instead"
            )
        name = operation or func.__name__

        def finish(call: ToolCall, result: Any) -> None:
            if usage is not None:
                extracted = _extract(func, usage, result)
                if isinstance(extracted, Mapping):
                    extracted = usage_from_values(extracted)
                if isinstance(extracted, Usage):
                    call.record_usage(extracted)
            if callable(cost):
                reported = _extract(func, cost, result)
                refused: dict[str, str] = {}
                amount = to_decimal(reported, "cost", refused) if reported is not None else None
                if amount is not None:
                    call.set_cost(amount, "provider")
                elif refused:  # priced from the tables instead; the row says why
                    call.record_usage(Usage(invalid=refused))
            elif fixed_cost is not None:
                call.set_cost(fixed_cost, "override")
            call.succeed(result)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                key = tool_request_hash(provider, name, args, kwargs)
                call = ToolCall(
                    provider, name, model=model, arguments=(args, kwargs), request_hash=key
                )
                guard = guard_tool(call, options, model, key)
                if guard is not None and guard.served:
                    return guard.value
                with call.activate():
                    try:
                        if guard is None:
                            result = await func(*args, **kwargs)
                        else:
                            result = await guard.run_async(func, args, kwargs)
                    except BaseException as error:
                        call.fail(error)
                        raise
                if guard is not None:
                    guard.keep(result)
                finish(call, result)
                return result

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = tool_request_hash(provider, name, args, kwargs)
            call = ToolCall(provider, name, model=model, arguments=(args, kwargs), request_hash=key)
            guard = guard_tool(call, options, model, key)
            if guard is not None and guard.served:
                return cast(R, guard.value)
            with call.activate():
                try:
                    result = (
                        func(*args, **kwargs) if guard is None else guard.run(func, args, kwargs)
                    )
                except BaseException as error:
                    call.fail(error)
                    raise
            if guard is not None:
                guard.keep(result)
            finish(call, result)
            return result

        return wrapper

    return decorate


def _extract(func: Callable[..., Any], extractor: Callable[[Any], Any], result: Any) -> Any:
    """Run a user's extractor; its failure costs a warning (once per function), never the call."""
    try:
        value = extractor(result)
    except Exception:
        if func.__qualname__ not in _failed_extractors:
            _failed_extractors.add(func.__qualname__)
            _log.warning("usage/cost extractor of %s failed", func.__qualname__, exc_info=True)
        return None
    return value
