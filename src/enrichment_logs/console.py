"""Live cost lines: one per tool call with the lead's running total, and a periodic summary.

The lines go through Python `logging` (logger `enrichment_logs.console`, level INFO), so users can
route, filter or silence them like any other log. They are written from the exporter's thread as
priced rows arrive, never from the pipeline's: a slow terminal cannot slow a call. When nobody
has configured logging, `configure()` attaches a stderr handler that colours only a terminal.

Modes (`console` setting): `off`; `terse` (default: one line per call, provider summaries every
30 s and at shutdown); `verbose` (adds model, token split, cost source and error messages).
"""

from __future__ import annotations

import logging
import statistics
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from enrichment_logs.config import ConsoleMode

LOGGER_NAME = "enrichment_logs.console"
_log = logging.getLogger(LOGGER_NAME)
_LATENCY_WINDOW = 1000

_COLOURS = {
    "success": "\033[32m",
    "cached": "\033[36m",
    "error": "\033[31m",
    "rejected": "\033[33m",
}
_RESET = "\033[0m"


@dataclass
class _ProviderWindow:
    """A provider's counts and its most recent latencies, for the periodic summary."""

    calls: int = 0
    errors: int = 0
    spend: Decimal = Decimal(0)
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=_LATENCY_WINDOW))


class ConsoleCostLines:
    """A row listener for the exporter: logs each call and keeps running totals."""

    def __init__(self, mode: ConsoleMode = "terse", summary_every_seconds: float = 30.0) -> None:
        self._mode = mode
        self._summary_every = summary_every_seconds
        self._next_summary = time.monotonic() + summary_every_seconds
        self._lock = threading.Lock()
        self._lead_totals: dict[str, Decimal] = defaultdict(Decimal)
        self._providers: dict[str, _ProviderWindow] = defaultdict(_ProviderWindow)

    def __call__(self, rows: Sequence[Mapping[str, object]]) -> None:
        if self._mode == "off":
            return
        with self._lock:
            lines = [self._line(row) for row in rows]
            due = time.monotonic() >= self._next_summary
            if due:
                self._next_summary = time.monotonic() + self._summary_every
        for line, status in lines:
            _log.info(line, extra={"enrichment_status": status})
        if due:
            self.summarize()

    def summarize(self) -> None:
        """One line per provider: calls, error rate, p50/p95 latency and spend so far."""
        if self._mode == "off":
            return
        with self._lock:
            windows = sorted(self._providers.items())
            lines = [_summary(provider, window) for provider, window in windows]
        for line in lines:
            _log.info(line, extra={"enrichment_status": "summary"})

    def _line(self, row: Mapping[str, object]) -> tuple[str, str]:
        provider = str(row.get("provider"))
        status = str(row.get("status"))
        cost = row.get("cost")
        lead = row.get("lead_id")
        window = self._providers[provider]
        window.calls += 1
        window.errors += status == "error"
        duration = row.get("duration_ms")
        if isinstance(duration, int | float):
            window.durations.append(float(duration))
        if isinstance(cost, Decimal):
            window.spend += cost
            if isinstance(lead, str):
                self._lead_totals[lead] += cost
        parts = [
            f"{provider} {row.get('operation')}",
            f"lead={lead or '-'}",
            f"{duration:.0f}ms" if isinstance(duration, int | float) else "-",
            _usage(row, self._mode),
            f"${cost:.6f}" if isinstance(cost, Decimal) else "cost unknown",
        ]
        if self._mode == "verbose":
            parts.insert(1, f"model={row.get('model') or '-'}")
            parts.append(f"source={row.get('cost_source')}")
        parts.append(status)
        if isinstance(lead, str):
            parts.append(f"lead total ${self._lead_totals[lead]:.6f}")
        if self._mode == "verbose" and row.get("error_message"):
            parts.append(f"error={str(row.get('error_message'))[:120]!r}")
        return "  ".join(parts), status


def _usage(row: Mapping[str, object], mode: ConsoleMode) -> str:
    credits = row.get("credits")
    if isinstance(credits, Decimal):
        return f"{credits.normalize():f} credits"
    input_tokens, output_tokens = row.get("input_tokens"), row.get("output_tokens")
    if input_tokens is None and output_tokens is None:
        return "-"
    if mode == "verbose":
        cached = row.get("cached_input_tokens") or 0
        reasoning = row.get("reasoning_tokens") or 0
        return (
            f"{input_tokens or 0}({cached} cached)->{output_tokens or 0}({reasoning} reasoning) tok"
        )
    return f"{input_tokens or 0}->{output_tokens or 0} tok"


def _summary(provider: str, window: _ProviderWindow) -> str:
    durations = sorted(window.durations)
    if len(durations) >= 2:
        cuts = statistics.quantiles(durations, n=20, method="inclusive")
        latency = f"p50 {statistics.median(durations):.0f}ms p95 {cuts[18]:.0f}ms"
    else:
        latency = f"p50 {durations[0]:.0f}ms" if durations else "no latency yet"
    error_rate = window.errors / window.calls if window.calls else 0.0
    return (
        f"[{provider}] {window.calls} calls, {error_rate:.0%} errors, {latency}, "
        f"${window.spend:.6f} so far"
    )


class _TerminalFormatter(logging.Formatter):
    """Colours the status of a line when writing to a terminal, plain text otherwise."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__("[enrichment] %(message)s")
        self._colour = stream.isatty()

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        status = getattr(record, "enrichment_status", "")
        colour = _COLOURS.get(status)
        if self._colour and colour:
            return text.replace(f"  {status}", f"  {colour}{status}{_RESET}", 1)
        return text


def ensure_visible(stream: TextIO | None = None) -> None:
    """Give the console lines a stderr handler when the application configured no logging."""
    if _log.level == logging.NOTSET:
        _log.setLevel(logging.INFO)
    if _log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_TerminalFormatter(handler.stream))
    _log.addHandler(handler)
    _log.propagate = False
