"""The database's volume fills up mid-run while the spool's has room: rows wait in the spool,
the failure is logged once, and when space is freed every row lands once.

A real full volume: a small tmpfs, which only root may mount (skipped elsewhere;
`test_disk_full.py` covers a full disk without privileges).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.pipeline import pipeline_process, table_ids

CALLS_PER_LEAD = 4
VOLUME_BYTES = 8 * 1024 * 1024


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "volume"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME_BYTES},mode=0700", "tmpfs", mount_point],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", mount_point], check=True)


def fill(volume: Path) -> Path:
    """Write a file until the volume has no byte left."""
    filler = volume / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 512):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, chunk)
        with pytest.raises(OSError, match="No space left") as raised:
            os.write(fd, b"\0")
        assert raised.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_full_database_volume_keeps_rows_in_the_spool_until_space_is_freed(
    small_volume, tmp_path, emulator
):
    db_path = small_volume / "enrichment_logs.duckdb"
    spool = {"ENRICHMENT_LOGS_SPOOL_DIR": str(tmp_path / "spool")}
    with pipeline_process(db_path, emulator, spool) as pipeline:
        pipeline.enrich(3)
        pipeline.send({"flush": 10})
        assert pipeline.answer("flushed")["flushed"]

        filler = fill(small_volume)
        pipeline.enrich(6)
        pipeline.send({"flush": 2})
        full = pipeline.answer("flushed")
        assert not full["flushed"], pipeline.stderr()
        assert full["stats"]["rows_pending_in_spool"] == 6 * CALLS_PER_LEAD
        assert full["stats"]["rows_dropped"] == 0

        filler.unlink()
        pipeline.enrich(1)
        pipeline.send({"flush": 10})
        freed = pipeline.answer("flushed")
        pipeline.send({"shutdown": True})
        final = pipeline.answer("stats")["stats"]
        pipeline.close_input()
        assert pipeline.wait() == 0

    assert freed["flushed"]
    made = emulator.count()
    assert made == 10 * CALLS_PER_LEAD
    assert final["rows_written"] == made
    assert final["rows_dropped"] == final["rows_pending_in_spool"] == 0
    ids = table_ids(db_path)
    assert len(ids) == len(set(ids)) == made
    log = pipeline.stderr()
    assert log.count("rows wait in the spool") == 1, log
