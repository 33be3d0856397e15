"""The reference pipeline in its own process, driven line by line by a fault test.

Run as `python pipeline_child.py DB_PATH EMULATOR_BASE_URL`. It configures enrichment-logs for
the DuckDB file and the emulator's routes (the emulator runs in the test's process, so it keeps
counting requests whatever happens to this one), then reads one JSON command per line on stdin
and answers with JSON lines on stdout:

- `{"enrich": N, "first": K}`: enrich sample leads K..K+N-1 with the real async SDKs; one
  `{"lead", "calls", "done_at"}` line per finished lead (`done_at` is `time.monotonic()`, which
  is the same clock in every process of the machine), then `{"enriched": N, "stats": ...}`;
- `{"file_size_limit": BYTES}`: from now on no file of this process may grow past BYTES (the
  kernel's RLIMIT_FSIZE: writes fail with EFBIG, as they fail with ENOSPC on a full disk);
  `null` lifts the limit;
- `{"flush": SECONDS}`: `{"flushed": bool, "stats": ...}`;
- `{"shutdown": true}`: `{"stats": ...}` after the handle's shutdown;
- end of input: the interpreter exits normally, with no call to flush or shutdown.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import resource
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import enrichment_logs as el
from enrichment_logs.emulator.remote import RemoteEmulator
from enrichment_logs.reference.clients import ProviderClients, emulator_routes
from enrichment_logs.reference.pipeline import EnrichedLead, enrich_all, sample_leads

CONCURRENCY = 5


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(db_path: Path, base_url: str) -> None:
    # A write past RLIMIT_FSIZE would otherwise kill the process with SIGXFSZ; a full disk
    # does not signal, it fails the write, which is what ignoring the signal gives.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    emulator = RemoteEmulator(base_url)
    handle = el.configure(db_path, console=False, provider_routes=emulator_routes(emulator))
    say({"ready": True, "stats": asdict(handle.stats)})
    for line in sys.stdin:
        command = json.loads(line)
        if "enrich" in command:
            leads = sample_leads(command["first"] + command["enrich"])[command["first"] :]
            # async clients belong to the event loop they first ran in: new ones per run
            clients = ProviderClients.from_environment(emulator)
            asyncio.run(enrich_all(leads, clients, CONCURRENCY, _report_lead))
            say({"enriched": len(leads), "stats": asdict(handle.stats)})
        elif "file_size_limit" in command:
            limit = command["file_size_limit"]
            _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard if limit is None else limit, hard))
            say({"file_size_limit": limit})
        elif "flush" in command:
            flushed = handle.flush(command["flush"])
            say({"flushed": flushed, "stats": asdict(handle.stats)})
        elif "shutdown" in command:
            handle.shutdown()
            say({"stats": asdict(handle.stats)})


def _report_lead(result: EnrichedLead) -> None:
    say({"lead": result.lead.lead_id, "calls": result.calls, "done_at": time.monotonic()})


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
