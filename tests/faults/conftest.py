"""Fault tests run the reference pipeline in a process of its own against the emulator here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enrichment_logs.emulator import ProviderEmulator


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    """Outlives the pipeline process, so requests are counted whatever happens to it."""
    with ProviderEmulator(seed=3) as running:
        yield running


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "enrichment_logs.duckdb"
