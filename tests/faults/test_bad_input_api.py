"""Whatever a pipeline passes to the logging API (missing, wrong-typed, huge, NaN, negative or
non-UTF-8 values), no exception reaches it, every call is one valid row, and a value that could
not be stored is NULL with its reason in the row's `attributes` (`invalid`).

Property-based, through the public API, a configured file and the real cost engine; the number
of examples comes from the hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import duckdb
from hypothesis import given
from hypothesis import strategies as st

import enrichment_logs as el

_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=12)
hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([-1, 0, 2**62, 2**62 + 1, 2**63, 10**400]),
    st.floats(),
    st.decimals(),
    st.binary(max_size=6),
    _text,
    st.sampled_from(["", "NaN", "-Infinity", "1e999", "-0.5", "12", "\x00", "\udcff", "9" * 5000]),
    st.builds(lambda n: "x" * n, st.sampled_from([70_000, 1_000_000])),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(_text, st.integers(), max_size=2),
    st.builds(object),
)
USAGE_FIELDS = ("input_tokens", "output_tokens", "cached_input_tokens", "credits", "cost")
SCALE = Decimal("1e-6")
"""The coarsest scale of the numeric columns (credits): smaller parts are rounded away."""


def _row(connection: duckdb.DuckDBPyConnection, log_id: str) -> dict[str, Any]:
    cursor = connection.execute("SELECT * FROM enrichment_logs WHERE id = ?", [log_id])
    names = [column[0] for column in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, f"{len(rows)} rows for {log_id}"
    return dict(zip(names, rows[0], strict=True))


def _reasons(row: dict[str, Any]) -> dict[str, str]:
    return dict(json.loads(row["attributes"]).get("invalid", {}))


def _stored_or_explained(row: dict[str, Any], field: str, column: str, given: object) -> None:
    """A value given for `field` is in its column (rounded to the column's scale), or the column
    holds NULL (or its default) and a reason naming the field is in `attributes`."""
    if given is None or _same_number(row[column], given):
        return
    assert any(field in key for key in _reasons(row)), (field, given, row["attributes"])


def _same_number(stored: object, given: object) -> bool:
    """Counts read a float exactly (`int(1e16)`); amounts read its shortest text (`"0.1"`)."""
    if (
        stored is None
        or isinstance(given, bool)
        or not isinstance(given, int | float | str | Decimal)
    ):
        return False
    readings = []
    for reading in (str, lambda value: value):
        try:
            readings.append(Decimal(reading(given)))
        except (ArithmeticError, TypeError):
            continue
    value = Decimal(str(stored))
    return any(number.is_finite() and abs(value - number) <= SCALE for number in readings)


def test_no_value_passed_to_the_logging_api_breaks_the_pipeline_or_its_row(logs):
    @el.tool("exa", "search")
    def search(usage: dict[str, Any]) -> str:
        el.record_usage(**usage)
        return "done"

    @el.tool("firecrawl", "scrape", cost=lambda result: result)
    def scrape(reported: object) -> object:
        return reported

    made: list[tuple[str, str, dict[str, Any]]] = []

    @given(
        usage=st.fixed_dictionaries({}, optional=dict.fromkeys(USAGE_FIELDS, hostile)),
        lead=hostile,
        company=hostile,
        retry_count=hostile,
        message=hostile,
        response=hostile,
        request=hostile,
        reported=hostile,
    )
    def no_call_raises(usage, lead, company, retry_count, message, response, request, reported):
        with el.enrichment_session(lead_id=lead, company_id=company):
            assert search(usage) == "done"
            assert scrape(reported) is reported
        completed = el.start_enrichment_log(
            provider="perplexity", operation="search", request_data=request
        )
        el.complete_enrichment_log(completed, response_data=response, **usage)
        failed = el.start_enrichment_log(provider="openai", operation="chat.completions.create")
        el.fail_enrichment_log(failed, message, retry_count=retry_count)
        made.append((completed, failed, {**usage, "retry_count": retry_count, "scraped": reported}))

    no_call_raises()
    assert logs.handle.flush()
    assert logs.handle.stats.rows_dropped == 0
    with duckdb.connect(str(logs.db_path)) as connection:  # the writer's file, shared in-process
        for completed, failed, values in made:
            row = _row(connection, completed)
            for field in ("input_tokens", "output_tokens", "cached_input_tokens", "credits"):
                _stored_or_explained(row, field, field, values.get(field))
            if values.get("cost") is not None and row["cost_source"] != "provider":
                assert "cost" in json.dumps(_reasons(row)), (values["cost"], row["attributes"])
            row = _row(connection, failed)
            assert row["status"] == "error"
            _stored_or_explained(row, "retry_count", "retry_count", values["retry_count"])
        scrapes = connection.execute(
            "SELECT cost, cost_source, attributes FROM enrichment_logs "
            "WHERE provider = 'firecrawl' ORDER BY started_at"
        ).fetchall()
    assert len(scrapes) == len(made)
    for (cost, source, attributes), (*_, values) in zip(scrapes, made, strict=True):
        reported = values["scraped"]
        if reported is not None and source != "provider":  # a reported cost it could not use
            reasons = json.loads(attributes).get("invalid", {})
            assert any("cost" in key for key in reasons), (reported, attributes)
        elif source == "provider":
            assert _same_number(cost, reported), (reported, cost)
