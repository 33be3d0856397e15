"""`enrichment-logs ingest`: receive spans over OTLP/HTTP and write them to one DuckDB file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from enrichment_logs.cli.arguments import positive_int


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a port number, 0 to 65535")
    return int(text)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="receive OTLP/HTTP traces (from the Collector) and write them to one DuckDB file",
    )
    ingest.add_argument(
        "--db",
        "--store",
        dest="db",
        default=None,
        metavar="PATH|URL",
        help="DuckDB file or store URL such as ducklake:postgres:DSN (default: "
        "ENRICHMENT_LOGS_STORE, else ENRICHMENT_LOGS_DB_PATH, else enrichment_logs.duckdb)",
    )
    ingest.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    ingest.add_argument(
        "--port", type=port_number, default=4318, help="port; 0 picks a free one (4318)"
    )
    ingest.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=64 * 1024 * 1024,
        help="largest request body, before and after gzip (64 MiB); larger gets 413",
    )
    ingest.add_argument(
        "--max-spool-rows",
        type=positive_int,
        default=100_000,
        help="rows waiting in the spool at which new batches get 503 + Retry-After (100000)",
    )
    ingest.add_argument(
        "--max-concurrent-requests",
        type=positive_int,
        default=8,
        help="requests handled at once; more get 429 + Retry-After (8)",
    )
    ingest.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from enrichment_logs.config import ConfigurationError
    from enrichment_logs.export.duckdb_store import StoreError
    from enrichment_logs.ingest import IngestLimits, IngestService, WriterLimits
    from enrichment_logs.stopping import stop_on_signals, wait_until

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    limits = IngestLimits(
        max_body_bytes=args.max_body_bytes,
        writer=WriterLimits(
            max_spool_rows=args.max_spool_rows,
            max_concurrent_requests=args.max_concurrent_requests,
        ),
    )
    stop = stop_on_signals()
    try:
        service = IngestService(
            store=args.db, host=args.host, port=args.port, limits=limits
        ).start()
    except (ConfigurationError, StoreError) as exc:
        print(f"enrichment-logs ingest: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"enrichment-logs ingest: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    store = service.settings.resolved_store
    print(f"listening on {service.url} (OTLP/HTTP: POST /v1/traces), writing {store}", flush=True)
    wait_until(stop)
    service.stop()
    return 0
