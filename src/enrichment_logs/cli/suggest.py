"""`enrichment-logs suggest`: what a response cache would have saved, and the line that enables it.

It finds requests that were paid for more than once (same `request_hash`, provider and
operation: the `caching_opportunities` view) and replays them against a cache of the given TTL:
the first call fills the cache, every repeat within the TTL after the call that filled it would
have been answered from it (and saved its cost), and a repeat after that pays again and refills
it. Per provider and operation it prints the calls and dollars saved, then the one setting that
turns the cache on for those operations.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from enrichment_logs.cli.log_options import add_db_argument, db_of, reads_the_log
from enrichment_logs.guards.settings import format_duration, parse_cache_ttl

DEFAULT_TTL = 3600.0
_REPEATS = """
SELECT provider, operation, request_hash, started_at, cost
FROM enrichment_calls
SEMI JOIN caching_opportunities USING (request_hash, provider, operation)
WHERE status = 'success' AND NOT cache_hit
ORDER BY provider, operation, request_hash, started_at, id
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    suggest = commands.add_parser(
        "suggest",
        help="what caching repeated identical requests would save, and how to turn it on",
        description="Finds requests paid for more than once (by request_hash) and prints, per "
        "provider and operation, the calls and dollars a response cache with this TTL would "
        "have saved, and the one setting that turns it on.",
    )
    add_db_argument(suggest)
    suggest.add_argument(
        "--ttl",
        type=_ttl,
        default=DEFAULT_TTL,
        help="how long a cached response stays fresh: 10m, 1h, 1d (1h; at most 30d)",
    )
    suggest.set_defaults(handler=run)


@dataclass
class Saving:
    """What the cache would have done for one provider and operation."""

    provider: str
    operation: str
    repeated_requests: int = 0
    calls: int = 0
    cached_calls: int = 0
    saved: Decimal = Decimal(0)
    unknown_cost_calls: int = 0
    """Cached calls whose cost is unknown, so not in `saved`."""
    _seen: set[str] = field(default_factory=set, repr=False)


def savings(rows: Iterable[Sequence[Any]], ttl_seconds: float) -> list[Saving]:
    """Replay calls, ordered by provider, operation, request and time, through a TTL cache."""
    found: dict[tuple[str, str], Saving] = {}
    filled: dict[tuple[str, str, str], datetime] = {}
    for provider, operation, request_hash, started_at, cost in rows:
        saving = found.setdefault((provider, operation), Saving(provider, operation))
        saving.calls += 1
        saving._seen.add(request_hash)
        key = (provider, operation, request_hash)
        filled_at = filled.get(key)
        if filled_at is not None and (started_at - filled_at).total_seconds() <= ttl_seconds:
            saving.cached_calls += 1
            if cost is None:
                saving.unknown_cost_calls += 1
            else:
                saving.saved += cost
        else:
            filled[key] = started_at
    for saving in found.values():
        saving.repeated_requests = len(saving._seen)
    return sorted(found.values(), key=lambda s: (-s.saved, -s.cached_calls, s.provider))


@reads_the_log("suggest")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs.analytics.connection import reading
    from enrichment_logs.analytics.views import with_inputs

    db = db_of(args)
    query = with_inputs(_REPEATS, ("enrichment_calls", "caching_opportunities"), {})
    with reading(db) as connection:
        found = savings(connection.execute(query).fetchall(), args.ttl)
    print(render(found, args.ttl, str(db)))
    return 0


def render(found: Sequence[Saving], ttl_seconds: float, db: str) -> str:
    ttl = format_duration(ttl_seconds)
    useful = [saving for saving in found if saving.cached_calls]
    if not useful:
        return (
            f"No request in {db} was repeated within {ttl} of an identical one: "
            "a response cache would save nothing."
        )
    lines = [
        f"Identical requests paid for more than once in {db}, against a cache with TTL {ttl}:",
        "",
        f"{'provider':<12} {'operation':<26} {'requests':>8} {'calls':>7} {'cached':>7} "
        f"{'saved USD':>12}",
    ]
    for saving in useful:
        unknown = (
            f"  (+{saving.unknown_cost_calls} of unknown cost)" if saving.unknown_cost_calls else ""
        )
        lines.append(
            f"{saving.provider:<12} {saving.operation:<26} {saving.repeated_requests:>8} "
            f"{saving.calls:>7} {saving.cached_calls:>7} {saving.saved:>12.6f}{unknown}"
        )
    total_calls = sum(saving.cached_calls for saving in useful)
    total = sum((saving.saved for saving in useful), Decimal(0))
    setting = ",".join(f"{saving.provider}.{saving.operation}={ttl}" for saving in useful)
    lines += [
        "",
        f"A cache would have answered {total_calls} calls and saved ${total:.6f}. Turn it on "
        "with (or configure(cache=...)):",
        f'ENRICHMENT_LOGS_CACHE="{setting}"',
    ]
    return "\n".join(lines)


def _ttl(text: str) -> float:
    try:
        return parse_cache_ttl(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
