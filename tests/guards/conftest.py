"""Guards under test: configured through `configure()`, against the emulator over loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from tests.instrumentation.conftest import emulator, emulator_routes

__all__ = ["emulator", "emulator_routes"]


@pytest.fixture
def guarded(make_logs: Any, emulator_routes: dict[str, str]) -> Callable[..., Any]:
    """`make_logs` (tests/conftest.py) with the instrumentations on, routing the emulator, and
    the guard settings given."""

    def make(**settings: Any) -> Any:
        return make_logs(provider_routes=emulator_routes, instrument=True, **settings)

    return make


@pytest.fixture(scope="session")
def metric_reader() -> InMemoryMetricReader:
    """An in-memory reader on the process's MeterProvider. OpenTelemetry allows one global
    provider per process: the first test that needs one sets it, with this reader."""
    current = metrics.get_meter_provider()
    if isinstance(current, MeterProvider):
        readers = current._sdk_config.metric_readers
        found = [reader for reader in readers if isinstance(reader, InMemoryMetricReader)]
        if not found:
            pytest.skip("the process already has a MeterProvider without an in-memory reader")
        return found[0]
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return reader


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """The data points of metric `name` in a fresh collection."""
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)
    return found
