"""What the commands that change the store share (`store`, `retain`, `forget`): which store, and
a user's mistake (a malformed URL, a store that cannot be reached) as one line and exit code 2."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from enrichment_logs.cli.log_options import user_errors

if TYPE_CHECKING:
    from enrichment_logs.config import Settings
    from enrichment_logs.export.erasure import Selection

Handler = Callable[[argparse.Namespace], int]


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        "--db",
        dest="store",
        default=None,
        metavar="URL|PATH",
        help="the store: duckdb:PATH (or a path), ducklake:sqlite:PATH or ducklake:postgres:DSN "
        "(default: ENRICHMENT_LOGS_STORE, else ENRICHMENT_LOGS_DB_PATH, else "
        "enrichment_logs.duckdb)",
    )


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="S",
        help="how long to wait for a pipeline that holds a DuckDB file (60)",
    )


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings `configure()` would use, with `--store` as the store."""
    from enrichment_logs.config import Settings

    return Settings.load({} if args.store is None else {"store": args.store})


def _store_errors() -> tuple[type[BaseException], ...]:
    from enrichment_logs.config import ConfigurationError
    from enrichment_logs.export.duckdb_store import StoreError

    return StoreError, ConfigurationError


def changes_the_store(command: str) -> Callable[[Handler], Handler]:
    """`user_errors` for the commands that change the store (a malformed URL, a store that
    cannot be reached)."""
    return user_errors(command, _store_errors)


def delete_and_report(args: argparse.Namespace, selection: Selection) -> int:
    """Delete the selected rows from `--store` (`export.erasure`) and say what was done."""
    from enrichment_logs.export.erasure import delete_rows

    settings = settings_of(args)
    done = delete_rows(settings, selection, wait_seconds=args.wait)
    where = settings.resolved_store
    parts = [f"deleted {done.rows_deleted} rows ({selection.description}) from {where}"]
    if done.rows_written_from_spool:
        parts.append(f"after writing the {done.rows_written_from_spool} rows the spool held")
    if done.snapshots_expired or done.files_removed:
        parts.append(
            f"{done.snapshots_expired} older snapshots expired, {done.files_removed} files removed"
        )
    if done.published_dir is not None:
        parts.append(f"the lake published in {done.published_dir} brought up to date")
    print("; ".join(parts))
    return 0
