"""Typed results: one frozen dataclass per kind of row, tables of them, and the reports.

Every row type's fields are the columns of the view it comes from, in the same names, so
`Row(**view_row)` builds it and a SQL user reads the same figures under the same names. Every
table and report gives `.rows()` (plain dicts, no DataFrame library needed) and `.to_arrow()`
(a `pyarrow.Table`, when pyarrow is installed).

Costs are `Decimal`, exact as stored. `known_cost` sums only calls whose cost is known;
`unknown_cost_calls` counts the others, whose cost is in no sum (unknown is never 0).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class _Row:
    """A result row; `as_row` is its dict, keyed like the view's columns."""

    __slots__ = ()

    def as_row(self) -> dict[str, Any]:
        instance: DataclassInstance = self  # type: ignore[assignment]
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(instance)}


R = TypeVar("R", bound=_Row)


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """Rows of one type, in the order the query gave them."""

    items: tuple[R, ...]
    columns: tuple[str, ...]

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> R:
        return self.items[index]

    def rows(self) -> list[dict[str, Any]]:
        return [item.as_row() for item in self.items]

    def to_arrow(self) -> Any:
        """A `pyarrow.Table` with these columns (typed from the values; empty columns are null)."""
        try:
            pyarrow = importlib.import_module("pyarrow")
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                "to_arrow() needs pyarrow, which is not installed: pip install pyarrow"
            ) from exc
        rows = self.rows()
        return pyarrow.Table.from_pydict(
            {name: [row[name] for row in rows] for name in self.columns}
        )


def table(row_type: type[R], rows: list[dict[str, Any]]) -> Table[R]:
    """A table of `row_type` from query rows whose columns are exactly its fields."""
    return Table(tuple(row_type(**row) for row in rows), columns_of(row_type))


class _Report:
    """A result whose `rows()` and `to_arrow()` are those of its main table."""

    __slots__ = ()

    def _main(self) -> Table[Any]:
        raise NotImplementedError

    def rows(self) -> list[dict[str, Any]]:
        return self._main().rows()

    def to_arrow(self) -> Any:
        return self._main().to_arrow()


# --- costs ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CostFigures(_Row):
    """What a set of calls cost, known and unknown apart."""

    calls: int
    priced_calls: int
    unknown_cost_calls: int
    known_cost: Decimal

    @property
    def complete(self) -> bool:
        """True when every call's cost is known, so `known_cost` is the whole cost."""
        return self.unknown_cost_calls == 0


@dataclass(frozen=True, slots=True)
class CostGroup(_Row):
    """The cost figures of one group; `key` maps each group_by column to its value."""

    key: Mapping[str, Any]
    calls: int
    priced_calls: int
    unknown_cost_calls: int
    known_cost: Decimal

    def as_row(self) -> dict[str, Any]:
        row = dict(self.key)
        row.update(
            calls=self.calls,
            priced_calls=self.priced_calls,
            unknown_cost_calls=self.unknown_cost_calls,
            known_cost=self.known_cost,
        )
        return row


@dataclass(frozen=True, slots=True)
class CostReport(_Report):
    """`get_enrichment_costs`: totals, and the breakdown by `group_by` (most expensive first)."""

    group_by: tuple[str, ...]
    totals: CostFigures
    breakdown: Table[CostGroup]

    def _main(self) -> Table[Any]:
        return self.breakdown


# --- leads and companies --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LeadCost(_Row):
    """A row of the `lead_costs` view."""

    lead_id: str | None
    company_id: str | None
    sessions: int
    calls: int
    priced_calls: int
    unknown_cost_calls: int
    known_cost: Decimal
    failed_calls: int
    enriched: bool
    first_call_at: datetime
    last_call_at: datetime


@dataclass(frozen=True, slots=True)
class CompanyCost(_Row):
    """A row of the `company_costs` view."""

    company_id: str | None
    leads: int
    calls: int
    priced_calls: int
    unknown_cost_calls: int
    known_cost: Decimal
    first_call_at: datetime
    last_call_at: datetime


@dataclass(frozen=True, slots=True)
class LeadCall(_Row):
    """A row of the `lead_calls` view: one call, as a per-lead cost page lists it."""

    lead_id: str | None
    started_at: datetime
    completed_at: datetime
    id: UUID
    session_id: str | None
    provider: str
    operation: str
    model: str | None
    status: str
    error_type: str | None
    cost: Decimal | None
    cost_source: str
    input_tokens: int | None
    output_tokens: int | None
    credits: Decimal | None
    duration_ms: float
    retry_count: int


@dataclass(frozen=True, slots=True)
class LeadCostDetails(_Report):
    """`get_lead_cost_details`: one lead's totals, its cost by provider and operation (the
    rows), and its calls in time order."""

    lead_id: str
    totals: CostFigures
    breakdown: Table[CostGroup]
    calls: Table[LeadCall]

    def _main(self) -> Table[Any]:
        return self.breakdown


@dataclass(frozen=True, slots=True)
class TopSpenders(_Report):
    """`get_top_leads`: the most expensive leads (the rows) and companies."""

    leads: Table[LeadCost]
    companies: Table[CompanyCost]

    def _main(self) -> Table[Any]:
        return self.leads


# --- cost per enrichment --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CostDistribution(_Row):
    """A row of the `cost_per_enrichment` view; the figures are None when `priced` is 0."""

    unit: str
    priced: int
    with_unknown_cost: int
    mean_cost: Decimal | None
    p50_cost: Decimal | None
    p95_cost: Decimal | None


@dataclass(frozen=True, slots=True)
class CostPerEnrichment(_Report):
    """`get_cost_per_enrichment`: per session and per enriched lead (both are the rows)."""

    per_session: CostDistribution
    per_enriched_lead: CostDistribution

    def _main(self) -> Table[Any]:
        return Table((self.per_session, self.per_enriched_lead), columns_of(CostDistribution))


# --- performance ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OperationPerformance(_Row):
    """A row of the `provider_performance` view; rates and percentiles are None when no call
    reached the provider. The percentiles come from `percentile_calls` durations: all of the
    calls that reached the provider when `percentiles_exact`, else a sample of them."""

    provider: str
    operation: str
    calls: int
    successes: int
    errors: int
    cached_calls: int
    rejected_calls: int
    success_rate: float | None
    error_rate: float | None
    retries: int
    p50_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    percentile_calls: int
    percentiles_exact: bool


@dataclass(frozen=True, slots=True)
class ErrorCount(_Row):
    """A row of the `provider_errors` view."""

    provider: str
    operation: str
    error_type: str | None
    errors: int


@dataclass(frozen=True, slots=True)
class PerformanceReport(_Report):
    """`get_performance_metrics`: per provider and operation (the rows), and errors by type.

    `percentile_sample` is 1 when the percentiles come from every call that reached the
    provider, N when from a deterministic sample of one call in N (`latency_sample` view)."""

    operations: Table[OperationPerformance]
    errors: Table[ErrorCount]
    percentile_sample: int

    @property
    def percentiles_exact(self) -> bool:
        return self.percentile_sample == 1

    def errors_by_type(self, provider: str, operation: str) -> dict[str | None, int]:
        """How often each error type failed this provider's operation."""
        return {
            item.error_type: item.errors
            for item in self.errors
            if item.provider == provider and item.operation == operation
        }

    def _main(self) -> Table[Any]:
        return self.operations


# --- usage ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UsagePoint(_Row):
    """A row of the `usage_daily` view (or of its hourly or weekly form)."""

    bucket_start: datetime
    provider: str
    calls: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    credits: Decimal
    unknown_cost_calls: int
    known_cost: Decimal


@dataclass(frozen=True, slots=True)
class UsageTrends(_Report):
    """`get_usage_trends`: usage per UTC interval and provider, empty intervals as zeros."""

    interval: str
    points: Table[UsagePoint]

    def _main(self) -> Table[Any]:
        return self.points


def columns_of(row_type: type[_Row]) -> tuple[str, ...]:
    return tuple(item.name for item in dataclasses.fields(row_type))  # type: ignore[arg-type]
