"""The spool keeps every batch on disk, whole and private, until the database has it."""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import duckdb

from enrichment_logs.export.spool import STALE_TMP_SECONDS, Spool


def _mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_segments_are_private_to_the_owner(tmp_path):
    spool = Spool(tmp_path / "private" / "spool")

    segment = spool.append([{"lead_id": "lead-1"}])

    assert _mode(spool.directory) == 0o700
    assert _mode(segment) == 0o600


def test_segments_replay_oldest_first_and_leave_when_removed(tmp_path):
    spool = Spool(tmp_path / "spool")
    written = [spool.append([{"batch": number}]) for number in range(5)]

    assert spool.segments() == written
    spool.remove(written[0])
    spool.remove(written[0])  # another process may have removed it already

    assert spool.segments() == written[1:]
    assert [Spool.count_rows(segment) for segment in written] == [0, 1, 1, 1, 1]


def test_a_half_written_segment_from_a_crash_is_ignored_then_cleaned(tmp_path):
    spool = Spool(tmp_path / "spool")
    segment = spool.append([{"batch": 1}])
    fresh = spool.directory / "99999999999999999999-1-00000000.tmp"
    stale = spool.directory / "00000000000000000001-1-00000000.tmp"
    for partial in (fresh, stale):
        partial.write_text('{"batch": 2, "trunc')
    long_ago = time.time() - STALE_TMP_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))

    assert spool.segments() == [segment]
    assert fresh.exists()  # may still be being written by a live process
    assert not stale.exists()


def test_decimals_times_ids_and_broken_text_are_read_back_exactly_by_duckdb(tmp_path, caplog):
    spool = Spool(tmp_path / "spool")
    row_id = uuid.uuid4()
    started = datetime(2025, 3, 1, 12, 30, 45, 123456, tzinfo=timezone(timedelta(hours=2)))
    segment = spool.append(
        [
            {
                "id": row_id,
                "cost": Decimal("0.0000000001"),
                "huge": Decimal("12345678.1234567891"),
                "started_at": started,
                "note": "lone \udc80 surrogate",
                "lines": "a\nb\u2028c\x00d",
            }
        ]
    )

    with caplog.at_level(logging.WARNING):
        spool.append([{"note": "\ud800"}, {"note": "fine"}])
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        row = connection.execute(
            "SELECT id, cost, huge, strftime(started_at, '%Y-%m-%d %H:%M:%S.%f'), note, lines "
            "FROM read_json(?, format = 'newline_delimited', columns = {id: 'UUID', "
            "cost: 'DECIMAL(18, 10)', huge: 'DECIMAL(18, 10)', started_at: 'TIMESTAMPTZ', "
            "note: 'VARCHAR', lines: 'VARCHAR'})",
            [str(segment)],
        ).fetchone()

    assert row == (
        row_id,
        Decimal("0.0000000001"),
        Decimal("12345678.1234567891"),
        started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "lone ? surrogate",
        "a\nb\u2028c\x00d",
    )
    assert "1 of 2 rows held text that is not valid UTF-8" in caplog.text
