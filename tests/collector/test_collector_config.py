"""collector/config.yaml: every pipeline uses defined components, every component exists in the
pinned Collector distribution, and the ports agree with docker-compose.yml and Prometheus.

No `otelcol-contrib` binary can run here (none is packaged for PyPI or Debian), so the check is
against the distribution's builder manifest, recorded below with its source.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from enrichment_logs.cli import build_parser
from tests.debian import require_command

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "collector" / "config.yaml"
PROMETHEUS = REPOSITORY / "collector" / "prometheus.yml"
COMPOSE = REPOSITORY / "docker-compose.yml"

CONTRIB_VERSION = "0.159.0"
CONTRIB_MODULES = {
    ("extensions", "file_storage"): "github.com/open-telemetry/opentelemetry-collector-contrib/"
    "extension/storage/filestorage",
    ("receivers", "otlp"): "go.opentelemetry.io/collector/receiver/otlpreceiver",
    ("processors", "memory_limiter"): "go.opentelemetry.io/collector/processor/"
    "memorylimiterprocessor",
    ("processors", "batch"): "go.opentelemetry.io/collector/processor/batchprocessor",
    ("exporters", "prometheus"): "github.com/open-telemetry/opentelemetry-collector-contrib/"
    "exporter/prometheusexporter",
    ("exporters", "otlp_http"): "go.opentelemetry.io/collector/exporter/otlphttpexporter",
    ("exporters", "otlp_grpc"): "go.opentelemetry.io/collector/exporter/otlpexporter",
    ("exporters", "debug"): "go.opentelemetry.io/collector/exporter/debugexporter",
}
"""Every component type the config may use, with the Go module that provides it. Type names are
those in each module's metadata.yaml at v0.159.0 (open-telemetry/opentelemetry-collector, tag
v0.159.0): `otlp_http` and `otlp_grpc` are the exporters' current names (0.144.0 renamed them from
the deprecated `otlphttp` and `otlp`)."""
MANIFEST = Path(__file__).with_name(f"otelcol-contrib-{CONTRIB_VERSION}-manifest.yaml")
"""The otelcol-contrib builder manifest, vendored unchanged from
open-telemetry/opentelemetry-collector-releases, tag v0.159.0 (commit
f817832365a9a2b829bc7c25feffcf8834585dea), distributions/otelcol-contrib/manifest.yaml (Apache
License 2.0): the list of modules the released binary and image are built from."""


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load(CONFIG)


def component_type(name: str) -> str:
    return name.split("/", 1)[0]


def used_components(config: dict[str, Any]) -> set[tuple[str, str]]:
    service = config["service"]
    used = {("extensions", name) for name in service.get("extensions", [])}
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            used |= {(kind, name) for name in pipeline.get(kind, [])}
    return used


def test_every_pipeline_uses_only_defined_components(config):
    undefined = {
        (kind, name) for kind, name in used_components(config) if name not in config.get(kind, {})
    }
    assert not undefined


def test_the_recorded_modules_are_built_into_the_pinned_distribution():
    manifest = load(MANIFEST)
    assert manifest["dist"]["version"] == CONTRIB_VERSION
    for (kind, _), module in CONTRIB_MODULES.items():
        assert {"gomod": f"{module} v{CONTRIB_VERSION}"} in manifest[kind], module


def test_every_component_is_in_the_pinned_contrib_distribution(config):
    defined = {
        (kind, component_type(name))
        for kind in ("extensions", "receivers", "processors", "exporters")
        for name in config.get(kind, {})
    }
    assert defined <= set(CONTRIB_MODULES), defined - set(CONTRIB_MODULES)
    compose = load(COMPOSE)
    assert compose["services"]["collector"]["image"].startswith(
        f"otel/opentelemetry-collector-contrib:{CONTRIB_VERSION}@sha256:"
    )


def test_a_misspelt_component_would_be_caught(config):
    config = yaml.safe_load(yaml.safe_dump(config))
    config["service"]["pipelines"]["traces"]["exporters"] = ["otlphttp/ingest"]
    assert ("exporters", "otlphttp/ingest") in {
        (kind, name) for kind, name in used_components(config) if name not in config[kind]
    }


def test_metrics_go_to_prometheus_and_traces_to_the_ingest_service_only(config):
    pipelines = config["service"]["pipelines"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert pipelines["traces"]["exporters"] == ["otlp_http/ingest"]
    for pipeline in pipelines.values():
        assert pipeline["processors"][0] == "memory_limiter"
        assert "debug" not in pipeline["exporters"]


def test_the_ingest_exporter_retries_and_queues_on_disk_within_the_services_limits(config):
    exporter = config["exporters"]["otlp_http/ingest"]
    assert exporter["retry_on_failure"]["enabled"] is True
    assert exporter["retry_on_failure"]["max_elapsed_time"] in ("0s", 0)
    queue = exporter["sending_queue"]
    assert queue["storage"] in config["service"]["extensions"]
    ingest_defaults = build_parser().parse_args(["ingest"])
    assert queue["num_consumers"] <= ingest_defaults.max_concurrent_requests


def test_ports_agree_with_compose_and_prometheus(config):
    compose = load(COMPOSE)["services"]
    protocols = config["receivers"]["otlp"]["protocols"]
    receiver_ports = {urlsplit("//" + protocol["endpoint"]).port for protocol in protocols.values()}
    assert receiver_ports == {4317, 4318}
    published = {int(port.rsplit(":", 1)[1]) for port in compose["collector"]["ports"]}
    assert published == receiver_ports

    ingest = urlsplit(config["exporters"]["otlp_http/ingest"]["traces_endpoint"])
    assert ingest.hostname in compose and ingest.path == "/v1/traces"
    command = compose[ingest.hostname]["command"]
    assert command[command.index("--port") + 1] == str(ingest.port)

    exporter_port = urlsplit("//" + config["exporters"]["prometheus"]["endpoint"]).port
    [target] = load(PROMETHEUS)["scrape_configs"][0]["static_configs"][0]["targets"]
    assert target == f"collector:{exporter_port}"


def test_prometheus_accepts_its_configuration():
    promtool = require_command("promtool", "prometheus")
    done = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
