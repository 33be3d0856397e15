"""Whatever a span carries, mapping it never raises and its row always goes into the table,
also through the real exporter and cost engine."""

from __future__ import annotations

import itertools
import uuid

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanContext, Status, StatusCode

from enrichment_logs import semconv
from enrichment_logs.export.duckdb_store import DuckDBStore
from enrichment_logs.export.exporter import DuckDBSpanExporter
from enrichment_logs.export.mapping import span_to_row
from enrichment_logs.export.spool import Spool
from enrichment_logs.pricing.engine import CostEngine

_OUR_KEYS = [value for name, value in vars(semconv).items() if name.isupper()]

_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=20)
_tricky_strings = st.sampled_from(
    [
        "",
        "NaN",
        "-Infinity",
        "sNaN",
        "-1",
        "1e400",
        "1e-400",
        "99999999.99999999999",
        "0.1234567890123456789",
        "tool_call",
        "session",
        "provider",
        "override",
        "error",
        '{"a": 1}',
        '{"a": NaN}',
        '"\\ud800"',
        '["\\udc00\\ud800"]',
        "[" * 2000 + "]" * 2000,
        "9" * 5000,
        "{not json",
        "\x00",
        str(uuid.uuid4()),
    ]
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-(2**63) - 1, 2**62 + 1, 2**63, 2**64]),
    st.builds(pow, st.just(10), st.integers(4300, 5000)),  # too long for str() by default
    st.floats(),
    st.decimals(),
    st.binary(max_size=8),
    _text,
    _tricky_strings,
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.one_of(_text, st.integers()), children, max_size=3),
    ),
    max_leaves=8,
)
_attributes = st.dictionaries(
    st.one_of(st.sampled_from(_OUR_KEYS), _text), _values, max_size=12
).map(lambda attributes: {semconv.SPAN_TYPE: "tool_call", **attributes})
_ids = st.integers(min_value=1, max_value=2**64 - 1)


class _CountingIds(IdGenerator):
    """Hypothesis forbids `random` inside strategies, which the SDK's default ids use."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def generate_span_id(self) -> int:
        return next(self._next)

    def generate_trace_id(self) -> int:
        return next(self._next)


# Resource.create, not Resource(...): it imports concurrent.futures.thread before the provider
# registers its fork hook. In the other order the SDK (1.45.1) deadlocks every forked child of
# this process (its hook runs a thread pool whose lock the child inherited held).
_sdk_tracer = TracerProvider(
    resource=Resource.create({"service.name": "hostile"}), id_generator=_CountingIds()
).get_tracer(__name__)


@st.composite
def hostile_spans(draw: st.DrawFn) -> ReadableSpan:
    """Half through a real SDK tracer (which cleans what it can), half built with no checks."""
    if draw(st.booleans()):
        span = _sdk_tracer.start_span(draw(_text), attributes=draw(_attributes))
        span.set_status(Status(StatusCode.ERROR, draw(st.one_of(st.none(), _text))))
        span.end()
        assert isinstance(span, ReadableSpan)
        return span
    start = draw(st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70)))
    return ReadableSpan(
        name=draw(_text),
        context=SpanContext(draw(_ids), draw(_ids), is_remote=False),
        resource=Resource({"service.name": draw(_text)}),
        attributes=draw(_attributes),
        status=Status(StatusCode.ERROR, draw(st.one_of(st.none(), _text))),
        start_time=start,
        end_time=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2**64))),
    )


def test_no_attribute_value_can_break_mapping_or_the_insert(tmp_path, pricer):
    store = DuckDBStore(tmp_path / "hostile.duckdb")
    spool = Spool(tmp_path / "spool")
    table = duckdb.connect(str(tmp_path / "hostile.duckdb"))  # same process: shares the file

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(spans=st.lists(hostile_spans(), min_size=1, max_size=6))
    def mapped_rows_always_land(spans: list[ReadableSpan]) -> None:
        rows = [row for row in (span_to_row(span, pricer) for span in spans) if row is not None]
        segment = spool.append(rows)
        store.ingest(segment)
        spool.remove(segment)
        for row in rows:
            found = table.execute(
                "SELECT count(*) FROM enrichment_logs WHERE id = ?", [str(row["id"])]
            ).fetchone()
            assert found == (1,)

    try:
        mapped_rows_always_land()
    finally:
        table.close()
        store.close()


def test_hostile_spans_through_the_real_exporter_and_cost_engine_are_all_written(tmp_path):
    exporter = DuckDBSpanExporter(tmp_path / "hostile.duckdb", pricer=CostEngine())
    expected: set[str] = set()

    @given(spans=st.lists(hostile_spans(), min_size=1, max_size=6))
    def every_span_is_a_row(spans: list[ReadableSpan]) -> None:
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        rows = [span_to_row(span, pricer) for span in spans]
        expected.update(str(row["id"]) for row in rows if row is not None)

    pricer = CostEngine()
    try:
        every_span_is_a_row()
        assert exporter.force_flush()
        assert exporter.stats.rows_dropped == 0
    finally:
        exporter.shutdown()
    with duckdb.connect(str(tmp_path / "hostile.duckdb"), read_only=True) as table:
        stored = {str(row[0]) for row in table.execute("SELECT id FROM enrichment_logs").fetchall()}
    assert stored == expected
