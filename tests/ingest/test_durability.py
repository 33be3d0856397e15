"""The ingest service never acknowledges a batch before it is durable, refuses with a retryable
status while it cannot keep up, and a bad request or a bad span costs nothing else."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.rpc import code_pb2
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import enrichment_logs as el
from tests.ingest.conftest import IngestProcess, otlp_json, otlp_protobuf


@el.tool("exa", "search", cost=lambda result: result["cost"])
def search(query: str) -> dict[str, object]:
    return {"cost": 0.005, "query": query}


def batch_of_calls(spans, *queries: str) -> tuple[bytes, list[str]]:
    """The protobuf body the OTLP exporter sends for these calls, and their log ids."""
    spans.clear()
    for query in queries:
        search(query)
    finished = spans.get_finished_spans()
    return otlp_protobuf(finished), [span.attributes["enrichment.log_id"] for span in finished]


def stored_ids(rows) -> list[str]:
    return sorted(str(row["id"]) for row in rows)


def test_a_malformed_body_gets_400_and_loses_nothing_else(spans, start_ingest):
    ingest = start_ingest()
    before, before_ids = batch_of_calls(spans, "first")
    after, after_ids = batch_of_calls(spans, "second", "third")

    assert ingest.post(before).status == 200
    garbage = ingest.post(b"\x0a\xff\xff\xff\xff\x0f not protobuf")
    assert garbage.status == 400
    assert garbage.rpc_status().code == code_pb2.INVALID_ARGUMENT
    assert ingest.post(b'{"resourceSpans": [', "application/json").status == 400
    assert ingest.post(after).status == 200

    assert stored_ids(ingest.rows()) == sorted(before_ids + after_ids)


def test_a_batch_sent_twice_is_stored_once(spans, start_ingest):
    ingest = start_ingest()
    body, ids = batch_of_calls(spans, "one", "two")

    assert ingest.post(body).status == 200
    assert ingest.post(body, gzipped=True).status == 200

    assert stored_ids(ingest.rows()) == sorted(ids)


def test_a_span_with_a_malformed_id_is_rejected_alone(spans, start_ingest):
    ingest = start_ingest()
    spans.clear()
    search("kept")
    search("broken")
    request = encode_spans(spans.get_finished_spans())
    kept, broken = request.resource_spans[0].scope_spans[0].spans
    broken.span_id = b"\0" * 8

    reply = ingest.post(otlp_json(request), "application/json")

    partial = reply.response().partial_success
    assert partial.rejected_spans == 1
    assert "span id" in partial.error_message
    [row] = ingest.rows()
    assert row["span_id"] == kept.span_id.hex()


def test_while_the_database_is_held_batches_wait_in_the_spool_then_the_rest_are_refused(
    tmp_path, spans, start_ingest
):
    db_path = tmp_path / "ingest.duckdb"
    first, first_ids = batch_of_calls(spans, "first")
    second, second_ids = batch_of_calls(spans, "second")
    with held(db_path):
        ingest = start_ingest("--max-spool-rows", "1")
        assert ingest.post(first).status == 200  # durable in the spool, not yet in the table
        refused = ingest.post(second)
        assert refused.status == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.rpc_status().code == code_pb2.UNAVAILABLE

    # Released: the service drains the spool by itself and takes batches again.
    assert retried_until_accepted(ingest, second) == 200
    assert stored_ids(ingest.rows()) == sorted(first_ids + second_ids)


def test_an_acknowledged_batch_survives_a_crash(tmp_path, spans, start_ingest):
    db_path = tmp_path / "ingest.duckdb"
    body, ids = batch_of_calls(spans, "acknowledged")
    with held(db_path):
        crashed = start_ingest()
        assert crashed.post(body).status == 200
        crashed.process.kill()
        crashed.process.wait(timeout=30)

    restarted = start_ingest()
    assert stored_ids(restarted.rows()) == sorted(ids)


def retried_until_accepted(ingest: IngestProcess, body: bytes, timeout: float = 20.0) -> int:
    """What an OTLP client does with 503 + Retry-After, on a shorter clock."""
    deadline = time.monotonic() + timeout
    while (status := ingest.post(body).status) == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    return status


@contextmanager
def held(db_path: Path) -> Iterator[None]:
    """Another process holds the DuckDB file, as the DuckDB CLI or a second writer would."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; held = duckdb.connect({str(db_path)!r}); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        yield
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
