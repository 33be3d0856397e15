"""`enrichment-logs store compact` and `enrichment-logs store migrate`: looking after a DuckLake.

`compact` merges the small files batch writes create, expires snapshots older than `--keep` and
deletes the files nothing needs any more (see `export.lake_maintenance`); run it hourly or
nightly while the writers run. `migrate --from duckdb:X --to ducklake:...` copies a DuckDB file's
log into a lake, each row once; run it again after an interruption and it copies what is missing.
"""

from __future__ import annotations

import argparse
from typing import Any

from enrichment_logs.cli.arguments import positive_int
from enrichment_logs.cli.log_options import UsageError, time_span
from enrichment_logs.cli.store_options import add_store_argument, changes_the_store, settings_of


def register(commands: argparse._SubParsersAction[Any]) -> None:
    store = commands.add_parser(
        "store",
        help="look after a DuckLake store: compact it, or migrate a DuckDB file into it",
        description="Maintenance of the store the pipeline writes to.",
    )
    actions = store.add_subparsers(dest="action", required=True)
    compact = actions.add_parser(
        "compact",
        help="merge small files, expire old snapshots, delete unreferenced files",
        description="Compact a DuckLake while its writers and readers run.",
    )
    add_store_argument(compact)
    compact.add_argument(
        "--keep",
        type=time_span,
        default=None,
        metavar="SPAN",
        help="snapshots (time travel) to keep: 30m, 24h, 7d, 2w (default 7d)",
    )
    compact.set_defaults(handler=run_compact)
    migrate = actions.add_parser(
        "migrate",
        help="copy a DuckDB file's log into a DuckLake, each row once (resumable)",
        description="Copy every row of a DuckDB file that the lake lacks, in batches.",
    )
    migrate.add_argument(
        "--from", dest="source", required=True, metavar="duckdb:PATH", help="the DuckDB file"
    )
    migrate.add_argument(
        "--to", dest="target", required=True, metavar="ducklake:...", help="the DuckLake"
    )
    migrate.add_argument(
        "--batch-rows", type=positive_int, default=50_000, help="rows per commit (50000)"
    )
    migrate.set_defaults(handler=run_migrate)


@changes_the_store("store compact")
def run_compact(args: argparse.Namespace) -> int:
    from enrichment_logs.export.lake_maintenance import DEFAULT_KEEP, compact
    from enrichment_logs.export.store_url import DuckLakeUrl

    url = settings_of(args).resolved_store
    if not isinstance(url, DuckLakeUrl):
        raise UsageError(f"{url} is a DuckDB file, which needs no compaction: give a DuckLake")
    done = compact(url, keep=args.keep or DEFAULT_KEEP)
    print(
        f"compacted {url}: {done.data_files_before} data files -> {done.data_files_after}, "
        f"{done.snapshots_expired} snapshots expired, {done.files_deleted} files deleted, "
        f"{done.duplicates_removed} duplicate rows removed"
    )
    return 0


@changes_the_store("store migrate")
def run_migrate(args: argparse.Namespace) -> int:
    from enrichment_logs.config import Settings
    from enrichment_logs.export.lake_maintenance import MigrationBatch, migrate
    from enrichment_logs.export.store_url import DuckDBUrl, DuckLakeUrl

    source = Settings.load({"store": args.source}).resolved_store
    target = Settings.load({"store": args.target}).resolved_store
    if not isinstance(source, DuckDBUrl):
        raise UsageError(f"--from {source}: give a DuckDB file (duckdb:PATH)")
    if not isinstance(target, DuckLakeUrl):
        raise UsageError(f"--to {target}: give a DuckLake (ducklake:sqlite:... or postgres:...)")
    read = 0

    def progress(batch: MigrationBatch) -> None:
        nonlocal read
        read += batch.rows_read
        print(f"{read} rows read, {batch.rows_inserted} of this batch were new", flush=True)

    inserted = migrate(source.path, target, batch_rows=args.batch_rows, on_batch=progress)
    print(f"migrated {source.path} to {target}: {inserted} rows copied, {read - inserted} there")
    return 0
