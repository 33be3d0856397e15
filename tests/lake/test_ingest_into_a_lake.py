"""The OTLP ingest service writes through the same store: `enrichment-logs ingest --store
ducklake:...`. One batch that a Collector retried to two ingest services at once is stored once."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.ingest.conftest import IngestProcess
from tests.ingest.test_durability import batch_of_calls
from tests.lake.fleet import rows_per_lead


def test_a_batch_sent_to_two_ingest_services_of_one_lake_at_once_is_stored_once(
    spans, postgres_lake
):
    services = [IngestProcess(Path(postgres_lake)) for _ in range(2)]  # the lake's URL as --db
    try:
        for round_number in range(3):
            body, _ = batch_of_calls(spans, *(f"q{round_number}-{n}" for n in range(40)))
            assert sent_at_once(services, body) == [200, 200]
            for service in services:  # the second copy is sent again, one after the other
                assert service.post(body).status == 200
        assert [service.stop() for service in services] == [0, 0]
    finally:
        for service in services:
            if service.process.poll() is None:
                service.process.kill()
                service.process.communicate()

    _, rows, ids, _ = rows_per_lead(postgres_lake)
    assert rows == ids == 3 * 40


def sent_at_once(services: list[IngestProcess], body: bytes) -> list[int]:
    """POST `body` to every service at the same moment; their replies' statuses."""
    start = threading.Barrier(len(services))
    replies: list[int] = []

    def send(service: IngestProcess) -> None:
        start.wait()
        replies.append(service.post(body).status)

    senders = [threading.Thread(target=send, args=(service,)) for service in services]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    return replies
