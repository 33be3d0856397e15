"""The Prometheus name the OpenTelemetry Collector's `prometheus` exporter gives a metric.

A transcription of the rules in `prometheus/otlptranslator` (`metric_namer.go`, `normalizeName`;
`unit_namer.go`, `buildUnitSuffixes`), which the Collector's exporter applies with its default
translation strategy, `UnderscoreEscapingWithSuffixes` (`add_metric_suffixes: true`): characters
other than `[a-zA-Z0-9:]` split the name into words joined by `_`; the unit becomes a word
(`s` -> `seconds`, `1` -> nothing, a `{annotation}` -> nothing, unknown units kept as written,
so `USD` stays `USD`) unless the name already has it; monotonic counters end in `total`; gauges
of unit `1` end in `ratio`.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["counter", "gauge", "histogram"]

_UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
_PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month"}
_INVALID = re.compile(r"[^a-zA-Z0-9:]")


def collector_name(name: str, unit: str, kind: Kind) -> str:
    words = [word for word in _INVALID.split(name) if word]
    main, _, per = unit.partition("/")
    main_word = _unit_word(main, _UNITS)
    per_word = _unit_word(per, _PER_UNITS)
    if main_word and main_word not in words:
        words.append(main_word)
    if per_word and f"per_{per_word}" not in words:
        words.append(f"per_{per_word}")
    if kind == "counter":
        words = [word for word in words if word != "total"] + ["total"]
    if unit == "1" and kind == "gauge":
        words = [word for word in words if word != "ratio"] + ["ratio"]
    joined = "_".join(words)
    return f"_{joined}" if joined[:1].isdigit() else joined


def _unit_word(unit: str, known: dict[str, str]) -> str:
    unit = unit.strip()
    if not unit or "{" in unit or "}" in unit:
        return ""
    word = known.get(unit, unit)
    return re.sub(r"__+", "_", _INVALID.sub("_", word)).lstrip("_")
