"""How the long-running commands (`ingest`, `emulator`, the reference workload) are stopped.

SIGTERM (`docker stop`, systemd) and SIGINT (Ctrl-C) both stop them cleanly. The handlers are
installed explicitly: a command a shell starts in the background inherits SIGINT ignored, and
Python then never raises KeyboardInterrupt for it.
"""

from __future__ import annotations

import signal
import threading
from typing import Final

SIGNAL_POLL_SECONDS: Final = 0.5


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT sets. Call it from the main thread."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    return stop


def wait_until(stop: threading.Event) -> None:
    """Block the main thread until `stop` is set.

    A signal may be delivered to any thread, and Python runs its handler only once the main
    thread executes bytecode, which a wait with no timeout never does: so the wait is in steps.
    """
    while not stop.wait(SIGNAL_POLL_SECONDS):
        pass
