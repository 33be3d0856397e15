"""Guards under test: configured through `configure()`, against the emulator over loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.instrumentation.conftest import emulator, emulator_routes
from tests.metrics.conftest import recorded

__all__ = ["emulator", "emulator_routes", "recorded"]


@pytest.fixture
def guarded(make_logs: Any, emulator_routes: dict[str, str]) -> Callable[..., Any]:
    """`make_logs` (tests/conftest.py) with the instrumentations on, routing the emulator, and
    the guard settings given."""

    def make(**settings: Any) -> Any:
        return make_logs(provider_routes=emulator_routes, instrument=True, **settings)

    return make
