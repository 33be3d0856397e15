"""A process-wide SDK MeterProvider that `configure()` joins, and what a test recorded on it.

OpenTelemetry allows one global MeterProvider per process, so it is set once, on first use, with
an in-memory reader (what the metrics are, as OpenTelemetry data) and a Prometheus reader (what
they are called in Prometheus). Readers are cumulative, so a test compares two collections.
Tests that need a process without a provider (creating one, serving a port) use a subprocess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    NumberDataPoint,
)

from enrichment_logs.metrics.instruments import METER_NAME

_memory = InMemoryMetricReader()


def _install_provider() -> None:
    current = metrics.get_meter_provider()
    if isinstance(current, MeterProvider):
        assert getattr(current, "_test_provider", False), "another MeterProvider is already set"
        return
    provider = MeterProvider(metric_readers=[_memory, PrometheusMetricReader()])
    provider._test_provider = True  # type: ignore[attr-defined]
    metrics.set_meter_provider(provider)


Key = tuple[str, frozenset[tuple[str, Any]]]


@dataclass(frozen=True)
class Collection:
    """Every data point of our meter at one moment, by metric name and attributes."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    points: dict[Key, NumberDataPoint | HistogramDataPoint] = field(default_factory=dict)

    @classmethod
    def collect(cls) -> Collection:
        collection = cls()
        data = _memory.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                if scope.scope.name != METER_NAME:
                    continue
                for metric in scope.metrics:
                    collection.metrics[metric.name] = metric
                    for point in metric.data.data_points:
                        assert isinstance(point, NumberDataPoint | HistogramDataPoint)
                        attributes = frozenset((point.attributes or {}).items())
                        collection.points[(metric.name, attributes)] = point
        return collection

    def value(self, name: str, **attributes: Any) -> float | None:
        point = self.points.get((name, frozenset(attributes.items())))
        return point.value if isinstance(point, NumberDataPoint) else None


@dataclass(frozen=True)
class Recorded:
    """What was recorded since `start`: counter increments and histogram counts and sums."""

    start: Collection

    def since_start(self) -> Delta:
        return Delta(self.start, Collection.collect())


@dataclass(frozen=True)
class HistogramDelta:
    count: int
    sum: float
    bucket_counts: tuple[int, ...]
    explicit_bounds: tuple[float, ...]


@dataclass(frozen=True)
class Delta:
    before: Collection
    after: Collection

    def sums(self, name: str) -> dict[frozenset[tuple[str, Any]], float]:
        """Increments of a counter per attribute set (only those that changed)."""
        changes = {}
        for (metric, attributes), point in self.after.points.items():
            if metric != name or not isinstance(point, NumberDataPoint):
                continue
            earlier = self.before.points.get((metric, attributes))
            change = point.value - (earlier.value if isinstance(earlier, NumberDataPoint) else 0)
            if change:
                changes[attributes] = change
        return changes

    def histograms(self, name: str) -> dict[frozenset[tuple[str, Any]], HistogramDelta]:
        """New measurements of a histogram per attribute set (only those that changed)."""
        changes = {}
        for (metric, attributes), point in self.after.points.items():
            if metric != name or not isinstance(point, HistogramDataPoint):
                continue
            earlier = self.before.points.get((metric, attributes))
            if isinstance(earlier, HistogramDataPoint):
                if earlier.count == point.count:
                    continue
                change = HistogramDelta(
                    point.count - earlier.count,
                    point.sum - earlier.sum,
                    tuple(
                        a - b
                        for a, b in zip(point.bucket_counts, earlier.bucket_counts, strict=True)
                    ),
                    tuple(point.explicit_bounds),
                )
            else:
                change = HistogramDelta(
                    point.count, point.sum, tuple(point.bucket_counts), tuple(point.explicit_bounds)
                )
            changes[attributes] = change
        return changes


def labels(attributes: frozenset[tuple[str, Any]]) -> Mapping[str, Any]:
    return dict(attributes)


@pytest.fixture
def recorded() -> Recorded:
    """Start watching metrics: configure() (called after this fixture) joins the provider."""
    _install_provider()
    return Recorded(Collection.collect())
