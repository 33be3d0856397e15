"""Opening a DuckLake with no network: its extensions load by path from their pip wheels.

A plain `LOAD ducklake` (or DuckDB's automatic loading) downloads the extension, which fails
offline after a timeout; the project depends on the wheels `duckdb-extension-ducklake`,
`-postgres-scanner` and `-sqlite-scanner` (built for exactly our DuckDB version) and loads the
`.duckdb_extension` files inside them. Automatic installing and loading are switched off on
lake connections, so nothing ever reaches for the network.

The lake is attached as `lake` and made the default database, so `enrichment_logs` and the
analytics views resolve by name exactly as in a DuckDB file. A SQLite catalog is put in WAL mode,
so its readers never wait for its writers; writers wait up to `BUSY_TIMEOUT_MS` for each other.

Writers attach with data inlining off (`DATA_INLINING_ROW_LIMIT 0`: every batch is a Parquet file,
never rows in the catalog). With DuckLake 1.5.5's default (inserts of up to 10 rows inlined), a
`ducklake_flush_inlined_data` (compaction, erasure) committed while a writer inserted inlined rows
made DuckDB invalidate the writer's database ("INTERNAL Error: Attempted to access index 0 within
vector of size 0") in most of our attempts, and closing it then aborted the process; with
inlining off, none in as many (DuckLake issues 650 and 1198 report the same family of races).

Errors become `StoreError`s that say what to do, with any password in a PostgreSQL connection
string hidden (DuckDB repeats the string in its messages).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar

import duckdb

from enrichment_logs.export.duckdb_store import StoreError
from enrichment_logs.export.store_url import DuckLakeUrl, redact

LAKE: Final = "lake"
"""The name the lake is attached as (and the default database of a lake connection)."""
BUSY_TIMEOUT_MS: Final = 10_000
"""How long a SQLite catalog's writer waits for another one's write lock."""
CONFLICT_RETRY_SECONDS: Final = 30.0
"""How long work that DuckLake aborts for a conflicting concurrent commit is retried."""

_EXTENSIONS: Final = {
    "sqlite": ("ducklake", "sqlite_scanner"),
    "postgres": ("ducklake", "postgres_scanner"),
}
_OFFLINE: Final = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
COMMIT_RETRY_WAIT_MS: Final = 5
"""When writers commit at once, DuckLake gives the loser the next snapshot id and commits again
after this wait (growing 1.5x each time). Its default, 100 ms, halved the rate of four writers
with a PostgreSQL catalog (measured: 8 300 against 14 900 rows/s, `benchmarks.lake_writers`)."""
COMMIT_RETRIES: Final = 20
"""About 30 s of such retries in all before a commit gives up (its rows stay in the spool)."""
CREATE_ATTEMPTS: Final = 5
_CREATION_RACES: Final = ("Failed to initialize DuckLake", "data_path is not set")
"""A writer that starts while another creates the lake sees half a catalog: it tries again."""
_CONFLICT_MARKERS: Final = ("Transaction conflict", "Failed to commit DuckLake transaction")
_UNREACHABLE_MARKERS: Final = (
    "Unable to connect",
    "Connection refused",
    "could not connect",
    "server closed the connection",
    "timeout expired",
    "database is locked",
)

T = TypeVar("T")


class CatalogUnreachableError(StoreError):
    """The catalog database is down or out of reach: a writer's rows wait in its spool."""


class LakeConflictError(StoreError):
    """Concurrent commits kept conflicting with this work for `CONFLICT_RETRY_SECONDS`."""


def extension_path(name: str) -> Path:
    """The `.duckdb_extension` file of `name` in its wheel, for this DuckDB version."""
    package = f"duckdb_extension_{name}"
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise StoreError(
            f"the DuckDB extension {name} is not installed: pip install "
            f"'{package.replace('_', '-')}=={duckdb.__version__}'"
        ) from None
    path = Path(str(root)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise StoreError(
            f"{path} is missing: the installed {package} does not match DuckDB "
            f"{duckdb.__version__}; install the same version of both"
        )
    return path


def connect_lake(
    url: DuckLakeUrl, *, read_only: bool, create: bool = False
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use.

    Only a writer with `create` makes a new lake; otherwise a URL naming none raises `StoreError`.
    Writers that start together race to create the catalog's tables: the losers attach again,
    to the lake the winner made.
    """
    create = create and not read_only
    if not create and url.catalog == "sqlite" and not Path(url.target).exists():
        raise StoreError(f"there is no DuckLake at {url}: {url.target} does not exist")
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        connection = duckdb.connect(config=dict(_OFFLINE))
        try:
            for name in _EXTENSIONS[url.catalog]:
                connection.execute(f"LOAD {sql_literal(str(extension_path(name)))}")
            options = _options(url, read_only, create)
            connection.execute(f"ATTACH {sql_literal(url.attach_path)} AS {LAKE} ({options})")
            connection.execute(f"USE {LAKE}")
            connection.execute(f"SET ducklake_retry_wait_ms = {COMMIT_RETRY_WAIT_MS}")
            connection.execute(f"SET ducklake_max_retry_count = {COMMIT_RETRIES}")
        except duckdb.Error as exc:
            connection.close()
            racing = any(marker in str(exc) for marker in _CREATION_RACES)
            if create and racing and attempt < CREATE_ATTEMPTS:
                time.sleep(random.uniform(0.05, 0.3))
                continue
            raise attach_error(url, exc) from exc
        except BaseException:
            connection.close()
            raise
        return connection
    raise AssertionError("unreachable: the last attempt returns or raises")


def attach_error(url: DuckLakeUrl, exc: duckdb.Error) -> StoreError:
    """What went wrong opening the lake, in words a user can act on."""
    message = redact(str(exc))
    if "does not exist" in message and "creating a new DuckLake" in message:
        return StoreError(
            f"there is no DuckLake at {url} yet (it is created by the first writer); "
            f"DuckDB said: {message}"
        )
    if "does not match existing data path" in message:
        return StoreError(
            f"{url}: the lake's data files are elsewhere; give the data_path it was created "
            f"with, or none. DuckDB said: {message}"
        )
    if "DATA_PATH" in message or "data_path" in message:
        return StoreError(f"{url}: a new lake needs ?data_path=DIR. DuckDB said: {message}")
    if any(marker in message for marker in _UNREACHABLE_MARKERS):
        return CatalogUnreachableError(
            f"the DuckLake catalog of {url} cannot be reached: {message}"
        )
    return StoreError(f"the DuckLake catalog of {url} cannot be opened: {message}")


def is_conflict(exc: BaseException) -> bool:
    """Whether DuckLake aborted a commit because a concurrent one conflicted with it."""
    if isinstance(exc, duckdb.InternalException | duckdb.FatalException):
        return False  # DuckDB invalidated the database: retrying on it can only fail again
    return isinstance(exc, duckdb.Error) and any(marker in str(exc) for marker in _CONFLICT_MARKERS)


def retrying_conflicts(
    connection: duckdb.DuckDBPyConnection,
    work: Callable[[], T],
    *,
    what: str,
    seconds: float = CONFLICT_RETRY_SECONDS,
) -> T:
    """Run `work` (which opens and commits its own transaction) again while DuckLake aborts it
    for a conflicting concurrent commit, with jittered backoff; other errors propagate.

    DuckLake retries plain conflicts itself (two inserts); it aborts when the changes overlap
    logically (a delete while another process inserted, two creates of one view), and then the
    work must be redone against the newer snapshot.
    """
    deadline = time.monotonic() + seconds
    wait = 0.02
    while True:
        try:
            return work()
        except duckdb.Error as exc:
            rollback(connection)
            if not is_conflict(exc):
                raise
            if time.monotonic() + wait > deadline:
                raise LakeConflictError(
                    f"could not {what}: concurrent commits kept conflicting for {seconds:.0f} s "
                    f"({redact(str(exc))})"
                ) from exc
        time.sleep(wait * random.uniform(0.5, 1.5))
        wait = min(wait * 2, 1.0)


def rollback(connection: duckdb.DuckDBPyConnection) -> None:
    """End a failed transaction, if one is still open."""
    with contextlib.suppress(duckdb.Error):  # the failed statement ended it, or none was open
        connection.execute("ROLLBACK")


def _options(url: DuckLakeUrl, read_only: bool, create: bool) -> str:
    options = []
    if url.data_path is not None:
        options.append(f"DATA_PATH {sql_literal(url.data_path)}")
    elif create and url.catalog == "sqlite" and not Path(url.target).exists():
        # a new SQLite-catalogued lake keeps its files next to the catalog
        options.append(f"DATA_PATH {sql_literal(url.target + '.files')}")
    if read_only:
        options.append("READ_ONLY")
    else:
        options.append("DATA_INLINING_ROW_LIMIT 0")
        if not create:
            options.append("CREATE_IF_NOT_EXISTS false")
    if url.catalog == "sqlite":
        options.append(f"BUSY_TIMEOUT {BUSY_TIMEOUT_MS}")
        if not read_only:  # readers then never wait for writers
            options.append("META_JOURNAL_MODE 'WAL'")
    return ", ".join(options)


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal (for statements that take no parameters, like ATTACH)."""
    return "'" + text.replace("'", "''") + "'"
