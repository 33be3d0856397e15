"""A fresh emulator per test, so request logs and fault settings never leak between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enrichment_logs.emulator import ProviderEmulator


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(seed=7, hang_seconds=2.0) as running:
        yield running
