"""Time-ordered identifiers (UUIDv7, RFC 9562) for log ids and sessions.

Python 3.11 has no `uuid.uuid7`; ids that sort by creation time keep DuckDB's primary-key index
and the spool's segment order cheap, and let a reader see roughly when a row was made.

The random bits come from `random.getrandbits`, as OpenTelemetry's span ids do, not from
`os.urandom`: a log id must be unique, not secret, and `os.urandom` is a system call on the
caller's thread (35 µs a call in our sandboxed CI, more than the rest of an id's logging). The
`random` module reseeds itself in a forked child, so parent and child never share a sequence.
"""

from __future__ import annotations

import random
import time


def new_log_id() -> str:
    """A fresh UUIDv7 as its canonical string."""
    unix_ms = time.time_ns() // 1_000_000
    rand = random.getrandbits(74)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 62) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    text = value.to_bytes(16, "big").hex()  # by hand: uuid.UUID would double an id's cost
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
