"""Security tests write through the real SDKs against the emulator and read the raw files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enrichment_logs.emulator import ProviderEmulator


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(seed=4) as running:
        yield running
