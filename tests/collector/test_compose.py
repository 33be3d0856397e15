"""docker-compose.yml and the Dockerfile: valid, pinned, and consistent with the repository.

No Docker engine runs here, so the compose file is validated against the Compose Specification's
JSON schema, vendored as `compose-spec.json`: compose-spec/compose-spec, `schema/compose-spec.json`
at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (the file last changed in a08f8d5, 2025-10-28),
Apache License 2.0.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
COMPOSE = REPOSITORY / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("compose-spec.json")
PINNED = re.compile(r"^[a-z0-9./-]+:v?\d+(\.\d+)+(-[a-z0-9-]+)?(@sha256:[0-9a-f]{64})?$")
"""An exact version (a variant suffix such as `-slim-bookworm` allowed), never `latest`."""
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
LOCAL_IMAGE = re.compile(r"^[a-z0-9-]+:local$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [error.message for error in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification(compose):
    assert schema_errors(compose) == []


def test_the_schema_catches_a_broken_compose_file(compose):
    broken = yaml.safe_load(yaml.safe_dump(compose))
    broken["services"]["ingest"]["stop_grace_period"] = {"seconds": 60}
    broken["services"]["grafana"]["volums"] = []
    assert len(schema_errors(broken)) == 2


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if "build" in service:
            assert LOCAL_IMAGE.match(image), (name, image)
            continue
        assert PINNED.match(image), (name, image)
        if not service.get("profiles"):  # the optional Jaeger is pinned by its exact tag only
            assert DIGEST.search(image), (name, image)
    dockerfile = (REPOSITORY / "Dockerfile").read_text()
    [base] = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert PINNED.match(base) and DIGEST.search(base)


def test_build_contexts_and_mounted_paths_exist(compose):
    for service in compose["services"].values():
        if "build" in service:
            context = REPOSITORY / service["build"]
            assert (context / "Dockerfile").is_file(), context
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPOSITORY / source).exists(), source
            else:
                assert source in compose["volumes"], source


def test_grafana_needs_an_admin_password_and_allows_no_anonymous_access(compose):
    environment = compose["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_grafana_reads_the_lake_the_ingest_service_publishes(compose):
    """The contract: the writer publishes a lake to `<db_path>.lake`; Grafana mounts only that,
    read-only and at the same path (its catalog records the data files' absolute path), and its
    DuckDB datasource attaches that lake's catalog."""
    ingest, grafana = compose["services"]["ingest"], compose["services"]["grafana"]
    published = ingest["environment"]["ENRICHMENT_LOGS_DB_PATH"] + ".lake"
    assert f"published:{published}" in ingest["volumes"]
    assert f"published:{published}:ro" in grafana["volumes"]
    assert not any(volume.startswith("ingest-data:") for volume in grafana["volumes"])
    assert grafana["environment"]["ENRICHMENT_LOGS_LAKE"] == (
        f"ducklake:sqlite:{published}/enrichment_logs.sqlite"
    )


def test_grafana_finds_the_dashboards_where_they_are_mounted(compose):
    [mounted_at] = [
        volume.split(":")[1]
        for volume in compose["services"]["grafana"]["volumes"]
        if volume.startswith("./grafana/dashboards:")
    ]
    providers = [
        provider
        for path in (REPOSITORY / "grafana" / "provisioning" / "dashboards").glob("*.y*ml")
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert [provider["options"]["path"] for provider in providers] == [mounted_at]


def test_grafana_knows_how_often_prometheus_scrapes(compose):
    """`$__rate_interval` is at least four scrape intervals: Grafana must know the real one."""
    prometheus = yaml.safe_load((REPOSITORY / "collector" / "prometheus.yml").read_text())
    environment = compose["services"]["grafana"]["environment"]
    assert environment["PROMETHEUS_SCRAPE_INTERVAL"] == prometheus["global"]["scrape_interval"]
    assert environment["PROMETHEUS_URL"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in compose["services"]["prometheus"]["ports"]


def test_the_workload_sends_to_the_collector(compose):
    workload = compose["services"]["workload"]["environment"]
    assert workload["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"


def test_the_image_installs_the_locked_dependencies_with_their_hashes():
    dockerfile = (REPOSITORY / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements.lock" in dockerfile
    copied = {
        path.rstrip("/")
        for line in re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE)
        for path in line.split()
    }
    kept = {
        line[1:].rstrip("/")
        for line in (REPOSITORY / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert copied <= kept
    assert all((REPOSITORY / path).exists() for path in copied)


def test_prometheus_scrapes_the_ingest_services_metrics_port(compose):
    prometheus = yaml.safe_load((REPOSITORY / "collector" / "prometheus.yml").read_text())
    targets = {
        target
        for job in prometheus["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    }
    ingest = compose["services"]["ingest"]["environment"]
    assert f"ingest:{ingest['ENRICHMENT_LOGS_METRICS_PORT']}" in targets
    assert ingest["ENRICHMENT_LOGS_METRICS_HOST"] == "0.0.0.0"  # reachable from Prometheus
