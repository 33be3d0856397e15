"""What every command that reads the log shares: `--db` (or `--store`), the time range options,
and turning a user's mistake (a missing or foreign file, a bad date) into one line and exit code 2.

Times: `--since 30m|24h|7d|2w` is the span up to now; `--from` and `--to` take an ISO date or
date and time (a time without a zone is UTC, like every day in the analytics) and give the
half-open range [from, to); without `--to` the range ends now.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the analytics load DuckDB: only when a command runs, not for --help
    from enrichment_logs.analytics.filters import DateRange
    from enrichment_logs.export.store_url import DuckLakeUrl

_SPAN: Final = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}

Handler = Callable[[argparse.Namespace], int]


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        "--store",
        dest="db",
        default=None,
        metavar="PATH|URL",
        help="the DuckDB file, the directory its writer publishes to, or a store URL "
        "(duckdb:PATH, ducklake:sqlite:PATH, ducklake:postgres:DSN) (default: "
        "ENRICHMENT_LOGS_STORE, else ENRICHMENT_LOGS_DB_PATH, else enrichment_logs.duckdb)",
    )


def add_time_arguments(parser: argparse.ArgumentParser) -> None:
    times = parser.add_mutually_exclusive_group()
    times.add_argument(
        "--since", type=time_span, metavar="SPAN", help="the last SPAN: 30m, 24h, 7d, 2w"
    )
    times.add_argument(
        "--from",
        dest="start",
        type=moment,
        metavar="WHEN",
        help="from this ISO date or time (UTC unless it names a zone)",
    )
    parser.add_argument(
        "--to", dest="end", type=moment, metavar="WHEN", help="until this moment, excluded"
    )


def time_span(text: str) -> timedelta:
    match = _SPAN.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a span such as 30m, 24h, 7d or 2w")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def moment(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected an ISO date or time, such as 2024-05-01 or 2024-05-01T09:30+02:00"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def date_range_of(args: argparse.Namespace) -> DateRange | None:
    """The half-open range the time options give, or None for every call."""
    now = datetime.now(UTC)
    if args.since is not None:
        if args.end is not None:
            raise UsageError("give --since or --from/--to, not both")
        return now - args.since, now
    if args.start is None:
        if args.end is not None:
            raise UsageError("--to needs --from")
        return None
    end = now if args.end is None else args.end
    if end < args.start:
        raise UsageError(f"--to {end.isoformat()} is before --from {args.start.isoformat()}")
    return args.start, end


def db_of(args: argparse.Namespace) -> Path | DuckLakeUrl:
    """`--db`/`--store`, else the store the pipeline writes to, as `configure()` would choose
    it: a DuckDB file's (or publish directory's) path, or a DuckLake."""
    from enrichment_logs.config import Settings
    from enrichment_logs.export.store_url import DuckDBUrl

    store = Settings.load({} if args.db is None else {"store": args.db}).resolved_store
    return store.path if isinstance(store, DuckDBUrl) else store


class UsageError(ValueError):
    """Options that cannot go together; reported like any other user mistake."""


def user_errors(
    command: str, errors: Callable[[], tuple[type[BaseException], ...]]
) -> Callable[[Handler], Handler]:
    """Run a handler so that what a user can fix is one line on stderr and exit code 2.

    `errors` names the exceptions that are the user's to fix; it is called only when the command
    runs, so that `--help` imports none of the modules they live in.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            caught: tuple[type[BaseException], ...] = (*errors(), UsageError, OSError)
            try:
                return handler(args)
            except caught as exc:
                message = " ".join(str(exc).split())  # DuckDB's messages span lines
                print(f"enrichment-logs {command}: {message}", file=sys.stderr)
                return 2

        return run

    return decorate


def _reading_errors() -> tuple[type[BaseException], ...]:
    from enrichment_logs.analytics.connection import AnalyticsError
    from enrichment_logs.config import ConfigurationError

    return AnalyticsError, ConfigurationError


def reads_the_log(command: str) -> Callable[[Handler], Handler]:
    """`user_errors` for the commands that read the log."""
    return user_errors(command, _reading_errors)
