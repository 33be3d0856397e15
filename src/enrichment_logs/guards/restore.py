"""Spend so far today and this month, read back from the log, so a restart keeps its budgets.

The rows are the record of what was spent: a process that starts reads the known costs of the
current UTC day and month (globally, per provider and per lead) and the recent costs per provider
and operation (for estimates). The same query serves `enrichment-logs budget`, which reads the log
without a running pipeline.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from enrichment_logs.guards.budget import Spend, period_start
from enrichment_logs.guards.estimates import RECENT_CALLS

_log = logging.getLogger("enrichment_logs.guards")

Query = Callable[[str, Sequence[object]], Sequence[tuple[Any, ...]]]
"""Runs SQL with `?` parameters on a connection to the log and returns its rows; raises
`LogHeldElsewhere` when another process holds the file."""

_SPEND = """
SELECT provider, lead_id, started_at >= ? AS today, sum(cost) AS spent
FROM enrichment_logs
WHERE started_at >= ? AND cost IS NOT NULL
GROUP BY ALL
"""
_RECENT = f"""
SELECT provider, operation, max(cost)
FROM (
    SELECT provider, operation, cost,
           row_number() OVER (PARTITION BY provider, operation ORDER BY started_at DESC) AS nth
    FROM enrichment_logs
    WHERE status = 'success' AND cost IS NOT NULL AND started_at >= ?
)
WHERE nth <= {RECENT_CALLS}
GROUP BY ALL
"""


@dataclass(frozen=True, slots=True)
class RestoredSpend:
    day: Spend
    month: Spend
    recent_highest: dict[tuple[str, str], Decimal]
    """The highest of the last calls' costs per (provider, operation) this month."""


def restore_spend(query: Query, now: datetime) -> RestoredSpend:
    day_start, month_start = period_start("day", now), period_start("month", now)
    day: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    month: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for provider, lead_id, today, spent in query(_SPEND, [day_start, month_start]):
        for totals, counts in ((month, True), (day, bool(today))):
            if not counts:
                continue
            totals[("global", "")] += spent
            totals[("provider", provider)] += spent
            if lead_id:
                totals[("lead", lead_id)] += spent
    recent = {
        (provider, operation): highest
        for provider, operation, highest in query(_RECENT, [month_start])
    }
    return RestoredSpend(Spend(dict(day)), Spend(dict(month)), recent)


def restore_or_start_empty(query: Query, db_path: Path, now: datetime) -> RestoredSpend | None:
    """Spend from the log through the writer's `query`; while another process holds the file,
    from what it publishes (see `analytics.connection`). None, with a warning, when neither can
    be read: the budgets then start from zero."""
    try:
        return restore_spend(query, now)
    except LogHeldElsewhere:
        pass
    except duckdb.Error as error:
        _log.warning("budgets start from zero: reading %s failed: %s", db_path, error)
        return None
    # Imported here: analytics reads through the export package, which the runtime builds on.
    from enrichment_logs.analytics.connection import AnalyticsError, reading

    try:
        with reading(db_path) as connection:
            return restore_spend(
                lambda sql, parameters: connection.execute(sql, parameters).fetchall(), now
            )
    except (AnalyticsError, duckdb.Error) as error:
        _log.warning("budgets start from zero: %s", error)
        return None


class LogHeldElsewhere(Exception):
    """The writer's query cannot run: another process holds the file."""
