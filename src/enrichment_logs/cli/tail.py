"""`enrichment-logs tail`: the latest calls and, with `--follow`, each new one as it lands.

It reads the lake the writer publishes whenever there is one (else the DuckDB file), so
however long it follows it never holds the file a pipeline may want to open. New rows appear
when the writer publishes them (every few seconds, see `export.publish`). A row counts as new by
its id; rows are followed by the time they completed, and one that lands more than `LATE` after
it completed (it waited in the spool while another process held the file) is not shown.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from enrichment_logs.cli.log_options import add_db_argument, db_of, reads_the_log
from enrichment_logs.cli.output import to_json

if TYPE_CHECKING:
    from enrichment_logs.analytics.filters import CallFilter
    from enrichment_logs.export.store_url import DuckLakeUrl

LATE: Final = timedelta(minutes=15)
"""How long after it completed a row may land and still be shown as new."""
COLUMNS: Final = (
    "id, started_at, completed_at, provider, operation, model, status, error_type, "
    "duration_ms, cost, lead_id, company_id, session_id"
)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    tail = commands.add_parser(
        "tail",
        help="the latest calls; with --follow, each new call as it lands",
        description="Print the latest calls, one line each; with --follow, keep printing new "
        "calls as the pipeline writes them, without ever holding its database.",
    )
    add_db_argument(tail)
    tail.add_argument("-n", "--lines", type=_whole, default=10, help="latest calls first (10)")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new calls")
    tail.add_argument(
        "--interval", type=_seconds, default=1.0, metavar="S", help="seconds between looks (1)"
    )
    tail.add_argument(
        "--max-seconds", type=_seconds, metavar="S", help="stop following after S seconds"
    )
    tail.add_argument("--provider", help="only this provider's calls")
    tail.add_argument("--lead", metavar="ID", help="only this lead's calls")
    tail.add_argument(
        "--format", choices=("text", "json"), default="text", help="a line of text or of JSON"
    )
    tail.set_defaults(handler=run)


@reads_the_log("tail")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs.analytics.filters import CallFilter

    follower = Follower(_source(db_of(args)), CallFilter(provider=args.provider, lead_id=args.lead))
    write = _json_line if args.format == "json" else _text_line
    for row in follower.start(args.lines):
        write(row)
    if not args.follow:
        return 0
    stop_at = None if args.max_seconds is None else time.monotonic() + args.max_seconds
    try:
        while stop_at is None or time.monotonic() < stop_at:
            time.sleep(args.interval if stop_at is None else min(args.interval, _left(stop_at)))
            for row in follower.new_rows():
                write(row)
    except KeyboardInterrupt:
        pass
    return 0


@dataclass
class Follower:
    """Remembers the rows it has shown that completed within `LATE` of the newest one."""

    source: Path | DuckLakeUrl
    calls: CallFilter
    seen: dict[UUID, datetime] = field(default_factory=dict)
    newest: datetime | None = None

    def start(self, lines: int) -> list[dict[str, Any]]:
        """The latest `lines` rows, oldest first; every row up to now counts as seen."""
        latest = self._query(
            "ORDER BY completed_at DESC, id DESC LIMIT $lines", {"lines": max(lines, 1)}, None
        )
        if latest:
            self.newest = latest[0]["completed_at"]
            self.new_rows()  # only the rows within LATE of the newest: the rest can never recur
        return latest[:lines][::-1]

    def new_rows(self) -> list[dict[str, Any]]:
        """Rows that landed since the last look, in the order they completed."""
        since = None if self.newest is None else self.newest - LATE
        rows = self._query("ORDER BY completed_at, id", {}, since=since)
        fresh = [row for row in rows if row["id"] not in self.seen]
        for row in rows:
            self.seen[row["id"]] = row["completed_at"]
            if self.newest is None or row["completed_at"] > self.newest:
                self.newest = row["completed_at"]
        if self.newest is not None:
            cutoff = self.newest - LATE
            self.seen = {key: done for key, done in self.seen.items() if done >= cutoff}
        return fresh

    def _query(
        self, order: str, parameters: dict[str, Any], since: datetime | None
    ) -> list[dict[str, Any]]:
        from enrichment_logs.analytics.connection import reading
        from enrichment_logs.analytics.queries import fetch

        where = "TRUE" if since is None else "completed_at >= $since"
        values = {**self.calls.parameters, **parameters}
        if since is not None:
            values["since"] = since
        sql = f"SELECT {COLUMNS} FROM ({self.calls.calls_sql()}) AS calls WHERE {where} {order}"
        with reading(self.source) as connection:
            return fetch(connection, sql, values)


def _source(db: Path | DuckLakeUrl) -> Path | DuckLakeUrl:
    """The publish directory when there is one, so that following never holds the file (a
    DuckLake is read directly: its readers hold nothing)."""
    from enrichment_logs.analytics.connection import publish_dir_of
    from enrichment_logs.export.publish import is_published

    if not isinstance(db, Path) or db.is_dir():
        return db
    published = publish_dir_of(db)
    return published if is_published(published) else db


def _text_line(row: dict[str, Any]) -> None:
    """One call in 80 columns: when it completed (UTC), what it was, how it went, its lead."""
    cost: Decimal | None = row["cost"]
    line = (
        f"{row['completed_at']:%H:%M:%S} {_cut(row['provider'], 10):<10} "
        f"{_cut(row['operation'], 23):<23} {_cut(row['status'], 7):<7} "
        f"{row['duration_ms']:>6.0f}ms {'unknown' if cost is None else f'${cost:.6f}':>10} "
    )
    print(line + _cut(row["lead_id"] or "-", 80 - len(line)), flush=True)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _json_line(row: dict[str, Any]) -> None:
    print(to_json(row, indent=None), flush=True)


def _left(stop_at: float) -> float:
    return max(0.0, stop_at - time.monotonic())


def _whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number, 0 or more")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds above 0")
    return value
