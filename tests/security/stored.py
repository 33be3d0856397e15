"""Everything enrichment-logs wrote beside a database path, as raw bytes and as text.

Raw bytes catch what a reader of the files could see; DuckDB and Parquet compress strings, so a
value can be stored without appearing verbatim, and the rows are also read back as text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from enrichment_logs.export.lake import connect_lake
from enrichment_logs.export.publish import is_published, published_lake


def files_beside(db_path: Path) -> dict[Path, bytes]:
    """The database, its WAL, the spool's segments, the published lake's files, the cache."""
    found: dict[Path, bytes] = {}
    for path in sorted(db_path.parent.rglob("*")):
        if path.is_file() and path.relative_to(db_path.parent).parts[0].startswith(db_path.name):
            found[path] = path.read_bytes()
    return found


def rows_as_text(db_path: Path) -> str:
    """Every row of the table and of the lake its writer published, every column as text."""
    parts = []
    with duckdb.connect(str(db_path), read_only=True) as connection:
        parts.append(str(connection.execute("SELECT * FROM enrichment_logs").fetchall()))
    published = db_path.with_name(db_path.name + ".lake")
    if is_published(published):
        with connect_lake(published_lake(published), read_only=True) as lake:
            parts.append(str(lake.execute("SELECT * FROM enrichment_logs").fetchall()))
    return "\n".join(parts)


class Witness:
    """Looks at the files at moments chosen by a test (the spool while the database is held, the
    WAL while the writer runs) and, at the end, at the stored rows."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.seen: dict[Path, list[bytes]] = {}

    def look(self) -> None:
        for path, data in files_beside(self.db_path).items():
            self.seen.setdefault(path, []).append(data)

    def leaks(self, values: tuple[str, ...]) -> list[str]:
        """Which of `values` appeared in any file looked at, or appear in any stored row."""
        self.look()
        text = rows_as_text(self.db_path)
        found = []
        for value in values:
            places = [
                path.name
                for path, versions in self.seen.items()
                if any(value.encode() in data for data in versions)
            ]
            if value in text:
                places.append("a stored row")
            if places:
                found.append(f"{value!r} in {', '.join(places)}")
        return found
