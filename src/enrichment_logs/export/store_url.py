"""Store URLs: where the `enrichment_logs` table lives, as one string.

- `duckdb:PATH`, or a plain `PATH`: one DuckDB file (the default, what `db_path` means). One
  process writes it; readers read the DuckLake it publishes.
- `ducklake:sqlite:PATH`: a DuckLake whose catalog is the SQLite file at PATH. Many processes on
  one machine write and read it at the same time, with no server.
- `ducklake:postgres:DSN`: a DuckLake whose catalog is a PostgreSQL database, given as a libpq
  connection string (`dbname=lake host=db user=el`, or `postgresql://el@db/lake`). Many writers
  and readers on many machines. Put the password in `PGPASSWORD` or `~/.pgpass`, not in the URL
  (a password in the URL is never printed, but it is in your environment).

A DuckLake URL may end with `?data_path=DIR`: where the lake's Parquet data files go (a local
directory, or object storage such as `s3://bucket/lake/` once DuckDB can reach it). It is needed
when the lake is created by a PostgreSQL catalog (a SQLite catalog defaults to `PATH.files/`);
DuckLake records it in the catalog, so later writers and readers may leave it out.

Everything that is not a known scheme is a path; a string that looks like an unknown scheme
(`lake:x`, `sqlite:x`) is refused rather than taken as a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeAlias

DATA_PATH_SUFFIX: Final = "?data_path="
_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_PASSWORD: Final = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD: Final = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@)", re.IGNORECASE)
_EXPECTED: Final = (
    "expected duckdb:PATH (or a plain path), ducklake:sqlite:PATH[?data_path=DIR] or "
    "ducklake:postgres:DSN[?data_path=DIR]"
)

CatalogKind: TypeAlias = Literal["sqlite", "postgres"]


class StoreUrlError(ValueError):
    """A store URL that names no store enrichment-logs can use (the settings name the variable)."""


@dataclass(frozen=True)
class DuckDBUrl:
    """One DuckDB file."""

    path: Path

    def sibling(self, suffix: str) -> Path:
        """A path next to the file (`<path>.spool`, `<path>.lake`)."""
        return self.path.with_name(self.path.name + suffix)

    def __str__(self) -> str:
        return f"duckdb:{self.path}"


@dataclass(frozen=True)
class DuckLakeUrl:
    """A DuckLake: a catalog database plus a directory (or bucket) of Parquet data files."""

    catalog: CatalogKind
    target: str
    """The SQLite file's path, or the PostgreSQL connection string (may hold a password)."""
    data_path: str | None = None

    @property
    def attach_path(self) -> str:
        """What DuckDB's `ATTACH` takes."""
        return f"ducklake:{self.catalog}:{self.target}"

    @property
    def name(self) -> str:
        """What a report calls the lake (like a file's name): its URL, password hidden."""
        return str(self)

    def sibling(self, suffix: str) -> Path:
        """A local path for this lake's spool or published files: next to a SQLite catalog,
        else `enrichment_logs<suffix>` in the working directory."""
        if self.catalog == "sqlite":
            path = Path(self.target).expanduser()
            return path.with_name(path.name + suffix)
        return Path("enrichment_logs" + suffix)

    def __str__(self) -> str:
        """The URL with any password replaced by `***`: safe for logs and error messages."""
        text = redact(self.attach_path)
        return text if self.data_path is None else f"{text}{DATA_PATH_SUFFIX}{self.data_path}"


StoreUrl: TypeAlias = DuckDBUrl | DuckLakeUrl


def parse_store_url(text: str | Path) -> StoreUrl:
    """The store `text` names; raises `StoreUrlError` with what was expected."""
    if isinstance(text, Path):
        return DuckDBUrl(text.expanduser())
    raw = text.strip()
    if not raw:
        raise StoreUrlError(f"the store URL is empty: {_EXPECTED}")
    if raw.startswith("duckdb:"):
        return DuckDBUrl(_local_path(raw.removeprefix("duckdb:"), "duckdb:"))
    if raw.startswith("ducklake:"):
        return _parse_ducklake(raw)
    scheme = _SCHEME.match(raw)
    if scheme:
        raise StoreUrlError(
            f"{redact(raw)!r}: unknown store type {scheme.group(1)!r}: {_EXPECTED}. "
            f"A file whose name has a colon is written duckdb:{scheme.group(1)}:..."
        )
    return DuckDBUrl(Path(raw).expanduser())


def redact(text: str) -> str:
    """`text` with PostgreSQL passwords (`password=...`, `postgresql://user:secret@`) hidden."""
    return _URI_PASSWORD.sub(r"\1***\3", _PASSWORD.sub(r"\1***", text))


def _parse_ducklake(raw: str) -> DuckLakeUrl:
    rest = raw.removeprefix("ducklake:")
    name, separator, target = rest.partition(":")
    catalog: CatalogKind
    if name == "sqlite" and separator:
        catalog = "sqlite"
    elif name == "postgres" and separator:
        catalog = "postgres"
    else:
        shown = redact(raw)
        if name in ("duckdb", "") or not separator:
            raise StoreUrlError(f"{shown!r}: a DuckLake needs its catalog: {_EXPECTED}")
        raise StoreUrlError(
            f"{shown!r}: DuckLake catalog {name!r} is not supported (sqlite or postgres): "
            f"{_EXPECTED}"
        )
    data_path: str | None = None
    if DATA_PATH_SUFFIX in target:
        target, _, data_path = target.rpartition(DATA_PATH_SUFFIX)
        data_path = data_path.strip()
        if not data_path:
            raise StoreUrlError(f"{redact(raw)!r}: ?data_path= is empty: {_EXPECTED}")
    target = target.strip()
    if not target:
        what = "the SQLite file's path" if catalog == "sqlite" else "a connection string"
        raise StoreUrlError(f"{redact(raw)!r}: ducklake:{catalog}: needs {what}: {_EXPECTED}")
    if catalog == "sqlite":
        if "?" in target:
            raise StoreUrlError(f"{raw!r}: the only option is ?data_path=DIR: {_EXPECTED}")
        target = str(_local_path(target, "ducklake:sqlite:"))
    return DuckLakeUrl(catalog, target, data_path)


def _local_path(text: str, scheme: str) -> Path:
    if not text.strip():
        raise StoreUrlError(f"{scheme} needs a file path: {_EXPECTED}")
    return Path(text.strip()).expanduser()
