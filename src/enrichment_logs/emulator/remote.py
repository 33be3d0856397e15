"""An emulator running in another process, as a client process sees it: its base URL.

The reference clients and `emulator_routes` only read an emulator's URLs, so a pipeline process
can talk to an emulator that another process (a test, a benchmark) runs and counts requests on.
"""

from __future__ import annotations

from enrichment_logs.emulator.server import ProviderEmulator


class RemoteEmulator(ProviderEmulator):
    """The URLs of an emulator served elsewhere; never started here."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._remote = base_url.rstrip("/")

    @property
    def base_url(self) -> str:
        return self._remote
