"""docker-compose.yml's lake: every worker writes to a DuckLake whose catalog is the stack's
PostgreSQL and whose data files are a volume; no password in any URL. (No Docker engine runs
here: the file is checked as data; tests/collector/test_compose.py validates and pins it.)"""

from __future__ import annotations

from pathlib import Path

import yaml

from enrichment_logs.export.store_url import DuckLakeUrl, parse_store_url

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_the_workers_write_to_a_lake_catalogued_by_the_stacks_postgres():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    workload, catalog = services["workload"], services["catalog"]
    store = parse_store_url(workload["environment"]["ENRICHMENT_LOGS_STORE"])
    assert isinstance(store, DuckLakeUrl) and store.catalog == "postgres"
    assert store.data_path is not None
    settings = dict(part.split("=", 1) for part in store.target.split())
    assert settings["host"] == "catalog"
    assert settings["dbname"] == catalog["environment"]["POSTGRES_DB"]
    assert settings["user"] == catalog["environment"]["POSTGRES_USER"]
    assert "password" not in settings
    assert workload["environment"]["PGPASSWORD"] == catalog["environment"]["POSTGRES_PASSWORD"]
    assert catalog["environment"]["POSTGRES_PASSWORD"].startswith("${CATALOG_PASSWORD:?")
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in workload["volumes"]}
    assert mounted[store.data_path.rstrip("/")] == "lake-data"
    assert mounted[workload["environment"]["ENRICHMENT_LOGS_SPOOL_DIR"]] == "workload-spool"
    assert workload["depends_on"]["catalog"]["condition"] == "service_healthy"
    assert "ports" not in catalog  # the catalog is reached inside the stack's network only
