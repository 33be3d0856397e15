"""Chart geometry for the HTML report: where every bar, dot and tick goes.

The report draws its charts as inline SVG on the server (the page carries no JavaScript), so the
layout is computed here, in plain Python, and the templates only draw what these objects say.
Each mark keeps the figure it stands for in `data`, its `data-*` attributes as the template writes
them: a reader (or a test) finds the number behind a bar without measuring pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Tick:
    """A gridline at `position` pixels along its axis."""

    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear scale from 0 to `top` (a round number at or above the largest value)."""

    top: float
    length: float
    ticks: tuple[Tick, ...]

    def __call__(self, value: float) -> float:
        return 0.0 if self.top <= 0 else self.length * value / self.top


def linear_scale(largest: float, length: float, label: Format, count: int = 4) -> Scale:
    """A scale with about `count` round steps that reaches `largest`."""
    if largest <= 0 or not math.isfinite(largest):
        return Scale(0.0, length, (Tick(0.0, label(0.0)),))
    step = _round_step(largest / count)
    top = step * math.ceil(largest / step - 1e-9)
    steps = round(top / step)
    ticks = tuple(Tick(length * i / steps, label(step * i)) for i in range(steps + 1))
    return Scale(top, length, ticks)


def _round_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `raw`."""
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        if multiple * magnitude >= raw * (1 - 1e-9):
            return multiple * magnitude
    return 10.0 * magnitude  # unreachable: 10 x magnitude always exceeds raw


# --- horizontal bars ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BarItem:
    """One row to draw: `value` None means the figure is not known (no bar, `shown` says why)."""

    label: str
    value: float | None
    shown: str
    color: str
    note: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bar:
    item: BarItem
    y: float
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    """Labelled horizontal bars: labels on the left, value text after each bar."""

    width: float
    height: float
    label_width: float
    bar_height: float
    row_height: float
    bars: tuple[Bar, ...]


def bar_chart(
    items: Sequence[BarItem],
    *,
    width: float = 520,
    label_width: float = 170,
    value_width: float = 150,
) -> BarChart:
    """One row per item, the bars scaled to the largest known value."""
    row_height, bar_height = 30.0, 14.0
    top = max((item.value for item in items if item.value is not None), default=0.0)
    length = width - label_width - value_width
    bars = tuple(
        Bar(
            item,
            y=index * row_height,
            width=0.0 if item.value is None or top <= 0 else max(length * item.value / top, 2.0),
        )
        for index, item in enumerate(items)
    )
    height = len(items) * row_height
    return BarChart(width, height, label_width, bar_height, row_height, bars)


# --- latency ranges ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RangeItem:
    """A median and a tail (p95) to draw as a dot joined to a ring; None: no call reached it."""

    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class RangeMark:
    low_x: float | None
    high_x: float | None


@dataclass(frozen=True, slots=True)
class RangeChart:
    """One low-to-high mark per table row, all on one scale; the axis goes in the header."""

    width: float
    pad: float
    scale: Scale
    marks: tuple[RangeMark, ...]


def range_chart(
    items: Sequence[RangeItem], label: Format, *, plot_width: float = 150, pad: float = 16
) -> RangeChart:
    """Marks for `items` in order, on a scale that reaches the highest value."""
    largest = max((item.high or item.low or 0.0 for item in items), default=0.0)
    scale = linear_scale(largest, plot_width, label)
    marks = tuple(
        RangeMark(
            low_x=None if item.low is None else scale(item.low),
            high_x=None if item.high is None else scale(item.high),
        )
        for item in items
    )
    return RangeChart(plot_width + 2 * pad, pad, scale, marks)


# --- stacked columns over time -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Segment:
    series: str
    y: float
    height: float
    color: str
    title: str
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Column:
    x: float
    width: float
    label: str
    show_label: bool
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class ColumnChart:
    """Columns, one per time bucket, each stacked by series (bottom to top in series order)."""

    metric: str
    width: float
    height: float
    left: float
    plot_height: float
    scale: Scale
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One series' value in one bucket; `exact` is the figure as the API gave it."""

    value: float
    exact: str


def column_chart(
    metric: str,
    buckets: Sequence[tuple[str, str]],
    series: Mapping[str, Sequence[SeriesPoint]],
    colors: Mapping[str, str],
    label: Format,
    *,
    width: float = 500,
    height: float = 190,
    max_labels: int = 7,
) -> ColumnChart:
    """Stacked columns for `buckets` (each a `(key, label)` pair) over a shared y scale.

    A zero value draws no segment; `series` maps each series name to one point per bucket.
    """
    left, bottom = 52.0, 22.0
    plot_height = height - bottom - 8.0
    plot_width = width - left
    totals = [sum(points[i].value for points in series.values()) for i in range(len(buckets))]
    scale = linear_scale(max(totals, default=0.0), plot_height, label, count=3)
    slot = plot_width / max(len(buckets), 1)
    column_width = min(slot * 0.72, 56.0)
    every = max(1, math.ceil(len(buckets) / max_labels))
    columns = []
    for index, (key, bucket_label) in enumerate(buckets):
        base = plot_height
        segments = []
        for name, points in series.items():
            point = points[index]
            if point.value <= 0:
                continue
            size = max(scale(point.value), 1.0)
            base -= size
            segments.append(
                Segment(
                    name,
                    y=base,
                    height=size,
                    color=colors[name],
                    title=f"{name}, {bucket_label}: {label(point.value)}",
                    data={"data-bucket": key, "data-series": name, "data-value": point.exact},
                )
            )
        columns.append(
            Column(
                x=left + slot * index + (slot - column_width) / 2,
                width=column_width,
                label=bucket_label,
                show_label=index % every == 0,
                segments=tuple(segments),
            )
        )
    return ColumnChart(metric, width, height, left, plot_height, scale, tuple(columns))
