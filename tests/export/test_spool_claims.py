"""Writers sharing a spool claim a segment before writing it: one holder at a time, and a segment
its holder removed is nobody's to write again."""

from __future__ import annotations

from enrichment_logs.export.spool import Spool


def test_a_claimed_segment_is_nobody_elses_until_released(tmp_path):
    spool = Spool(tmp_path)
    segment = spool.append([{"id": "a"}])
    # The second claim stands for another writer: flock locks each opened file apart.
    with spool.claim(segment) as first, spool.claim(segment) as second:
        assert first and not second
    with spool.claim(segment) as after:
        assert after


def test_a_segment_removed_by_its_holder_is_not_claimed_again(tmp_path):
    spool = Spool(tmp_path)
    segment = spool.append([{"id": "a"}])
    with spool.claim(segment) as held:
        assert held
        spool.remove(segment)  # written and removed while the lock is held
    with spool.claim(segment) as late:
        assert not late
