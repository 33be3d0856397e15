"""Asynchronous jobs (a Firecrawl crawl, an Exa research task) are one row, billed when finished.

Submitting a job costs nothing yet: the provider bills as the job's pages complete and reports
the total on the job's final status. So the submitting call's row stays open, held here by job
id, until a status poll reports the job finished; the poll then records the credits or cost on
it and ends it. Polls themselves are free and are not rows. A finished status for a job this
process did not submit (submitted elsewhere, or before instrumenting) becomes a row of its own,
once per job however often it is polled.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from enrichment_logs.tracing.tool_call import ToolCall

MAX_OPEN_JOBS = 1024
"""Beyond this many unfinished jobs, the oldest row ends without its cost rather than leak."""
MAX_REMEMBERED_JOBS = 8192

JobKey = tuple[str, str]
"""(provider, job id)."""


class OpenJobs:
    """Rows of submitted jobs waiting for their final status, and the jobs already billed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[JobKey, ToolCall] = OrderedDict()
        self._billed: OrderedDict[JobKey, None] = OrderedDict()

    def hold(self, key: JobKey, call: ToolCall) -> None:
        """Keep `call` open until job `key` is reported finished."""
        with self._lock:
            self._open[key] = call
            evicted = self._open.popitem(last=False)[1] if len(self._open) > MAX_OPEN_JOBS else None
        if evicted is not None:
            evicted.succeed()

    def finish(self, key: JobKey) -> tuple[ToolCall | None, bool]:
        """The held row of a finished job (if any), and whether this is its first final status."""
        with self._lock:
            held = self._open.pop(key, None)
            first = key not in self._billed
            self._billed[key] = None
            if len(self._billed) > MAX_REMEMBERED_JOBS:
                self._billed.popitem(last=False)
        return held, first

    def end_all(self) -> None:
        """End every held row without a cost (at uninstrument and at exit): the job's outcome was
        never seen, and a row without its cost is better than no row."""
        with self._lock:
            held, self._open = list(self._open.values()), OrderedDict()
        for call in held:
            call.succeed()


open_jobs = OpenJobs()
