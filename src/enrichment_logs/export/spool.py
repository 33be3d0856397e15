"""The write-ahead log between a batch of rows and the DuckDB file.

Every batch is first written here as one segment (JSON lines), so a row survives a held file lock,
a full disk on the database's volume or a crash between the write and the commit. A segment is
written under a temporary name, flushed, fsynced and renamed, so a reader sees either the whole
segment or nothing, and it is removed only after the store committed it. Names start with the
write time in nanoseconds, so sorting by name replays oldest first; several processes may share a
spool directory (the one holding the database lock ingests everyone's segments; with a DuckLake,
every writer does, each segment claimed by one of them at a time).

Rows are personal data (lead and company ids, request bodies): the directory is 0o700 and the
segments are 0o600.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

import orjson

_logger = logging.getLogger(__name__)

_SEGMENT_SUFFIX: Final = ".jsonl"
_TMP_SUFFIX: Final = ".tmp"
_REJECTED_SUFFIX: Final = ".rejected"
_sequence = itertools.count()
"""Per process, shared by every `Spool`: two writers in one nanosecond still get two names."""
STALE_TMP_SECONDS: Final = 3600.0
"""A temporary file this old was left by a crashed writer (a live one renames it in moments)."""


class Spool:
    """A directory of segment files, each one batch of rows, replayed oldest first."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def append(self, rows: Sequence[Mapping[str, object]]) -> Path:
        """Write `rows` as one durable segment and return its path.

        Raises OSError when the disk refuses it, TypeError or ValueError for a value JSON cannot
        hold (the mapping never produces one).
        """
        data = _encode_rows(rows)
        make_private_directory(self.directory)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_sequence):08d}"
        tmp = self.directory / (name + _TMP_SUFFIX)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            segment = self.directory / (name + _SEGMENT_SUFFIX)
            os.replace(tmp, segment)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_directory(self.directory)
        return segment

    def segments(self) -> list[Path]:
        """Segments waiting to be ingested, oldest first; removes temporaries left by crashes."""
        if not self.directory.is_dir():
            return []
        segments: list[Path] = []
        stale_before = time.time() - STALE_TMP_SECONDS
        for path in self.directory.iterdir():
            if path.suffix == _SEGMENT_SUFFIX:
                segments.append(path)
            elif path.suffix == _TMP_SUFFIX:
                _remove_if_older(path, stale_before)
        return sorted(segments, key=lambda path: path.name)

    @contextlib.contextmanager
    def claim(self, segment: Path) -> Iterator[bool]:
        """Hold `segment` for this process while it is written and removed: True if it is ours.

        An exclusive, non-blocking lock on the file (released when the block ends, or when the
        process dies), so processes sharing the spool never write one segment at the same time.
        False when another process holds it, or when it is gone (written and removed meanwhile).
        """
        try:
            fd = os.open(segment, os.O_RDONLY)
        except FileNotFoundError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield os.fstat(fd).st_nlink > 0  # 0: its holder removed it before we locked it
        finally:
            os.close(fd)

    def remove(self, segment: Path) -> None:
        """Forget a segment once its rows are committed (another process may have done it)."""
        segment.unlink(missing_ok=True)

    def reject(self, segment: Path) -> Path:
        """Set aside a segment the store refuses, so it cannot block every later one.

        The file is kept (renamed `*.rejected`) for inspection; nothing is deleted.
        """
        rejected = segment.with_suffix(_REJECTED_SUFFIX)
        os.replace(segment, rejected)
        return rejected

    @staticmethod
    def count_rows(segment: Path) -> int:
        """Rows in a segment (one per line); 0 if it is gone or unreadable."""
        try:
            return segment.read_bytes().count(b"\n")
        except OSError:
            return 0


def _encode_rows(rows: Sequence[Mapping[str, object]]) -> bytes:
    """Rows as UTF-8 JSON lines that DuckDB's `read_json` accepts.

    Decimals are written as strings (exact, never through float), datetimes as ISO 8601 with
    their offset, UUIDs as strings. orjson encodes a row in a tenth of the standard library's
    time; the few rows it refuses (a Python string holding a lone surrogate, which is not
    UTF-8) go through the standard encoder with `?` in its place, and a warning says how many.
    """
    lines: list[bytes] = []
    damaged = 0
    for row in rows:
        try:
            lines.append(orjson.dumps(row, default=_encode_value, option=orjson.OPT_APPEND_NEWLINE))
        except orjson.JSONEncodeError:
            text = _ROW_ENCODER.encode(row)
            try:
                encoded = text.encode("utf-8")
            except UnicodeEncodeError:
                damaged += 1
                encoded = text.encode("utf-8", "replace")
            lines.append(encoded + b"\n")
    if damaged:
        _logger.warning(
            "%d of %d rows held text that is not valid UTF-8; it was replaced with '?'",
            damaged,
            len(lines),
        )
    return b"".join(lines)


def _encode_value(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the spool")


_ROW_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_encode_value)
"""The fallback for rows orjson refuses (`json.dumps` with options builds a new one per call)."""


def _remove_if_older(path: Path, cutoff: float) -> None:
    with contextlib.suppress(FileNotFoundError):  # its writer renamed it meanwhile
        if path.stat().st_mtime < cutoff:
            path.unlink()


def make_private_directory(directory: Path) -> None:
    """Create `directory` (and its parents) if needed, owner-only. Raises FileExistsError when a
    file stands where the directory should be."""
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened


def fsync_directory(directory: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
