"""The dashboards and provisioning validate: what Grafana would refuse or show empty is caught."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.grafana.dashboards import (
    BUILT_INS,
    DUCKDB_TYPE,
    GRAFANA,
    PROMETHEUS_TYPE,
    dashboards,
    panels,
    provisioned_datasources,
    targets,
    variable_names,
)

UIDS = {
    "enrichment-costs.json": ("enrichment-costs", "Enrichment costs"),
    "provider-performance.json": ("provider-performance", "Provider performance"),
    "usage-trends.json": ("usage-trends", "Usage trends"),
    "lead-cost-details.json": ("lead-cost-details", "Lead cost details"),
}
SCHEMA_VERSION = 42
"""The latest dashboard schema (Grafana 12 and 13: `LATEST_VERSION` of its migrations)."""


def test_the_four_dashboards_parse_with_stable_uids_and_the_current_schema():
    found = dashboards()
    assert {name: (d["uid"], d["title"]) for name, d in found.items()} == UIDS
    for dashboard in found.values():
        assert dashboard["schemaVersion"] == SCHEMA_VERSION
        assert dashboard["id"] is None  # Grafana assigns ids; uids are what links use
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])


def test_panel_ids_are_unique_and_every_panel_is_described():
    for dashboard in dashboards().values():
        ids = [panel["id"] for panel in panels(dashboard)]
        assert len(ids) == len(set(ids)), dashboard["title"]
        for panel in panels(dashboard):
            if panel["type"] != "row":
                assert panel["title"] and panel.get("description"), panel
                assert panel["targets"], panel["title"]
                refs = [target["refId"] for target in panel["targets"]]
                assert len(refs) == len(set(refs)), panel["title"]


def test_every_datasource_a_dashboard_names_is_provisioned():
    provisioned = provisioned_datasources()
    for dashboard in dashboards().values():
        used = [
            *(panel["datasource"] for panel in panels(dashboard) if panel["type"] != "row"),
            *(t["datasource"] for p in panels(dashboard) for t in p.get("targets", [])),
            *(v["datasource"] for v in dashboard["templating"]["list"] if "datasource" in v),
        ]
        for reference in used:
            assert reference["uid"] in provisioned, reference
            assert provisioned[reference["uid"]]["type"] == reference["type"], reference


def test_every_variable_a_query_or_title_uses_is_defined():
    for dashboard in dashboards().values():
        defined = {variable["name"] for variable in dashboard["templating"]["list"]}
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "constant":
                assert variable["query"] and variable["hide"] == 2, variable["name"]
            elif variable["type"] == "query":
                query = variable["query"]
                text = query if isinstance(query, str) else query["query"]
                assert variable_names(text) <= defined, variable["name"]
        for panel in panels(dashboard):
            texts = [
                panel["title"],
                *(t.get("rawSql") or t.get("expr") for t in panel.get("targets", [])),
            ]
            for text in texts:
                assert variable_names(text) <= defined | BUILT_INS, (panel["title"], text)


def test_sql_names_a_format_for_every_variable():
    """The plugin formats panel SQL as `sqlstring` (quoted) but variable queries as plain text;
    an explicit format (`:raw`, `:sqlstring`) makes both the same."""
    for target in targets(DUCKDB_TYPE):
        for match in re.finditer(r"\$\{?(\w+)(:\w+)?", target.text):
            if match.group(1) not in ("__timeFilter", "__timeFrom", "__timeTo", "__interval_ms"):
                assert match.group(2), (target.name, match.group(0))


def test_sql_panels_read_the_table_as_every_store_names_it():
    """`enrichment_logs` (the view the datasource's initSql makes over the attached lake), and no
    path to files: the same SQL runs on the published lake, a lake store and a DuckDB file."""
    for target in targets(DUCKDB_TYPE):
        assert re.search(r"\bFROM enrichment_logs\b", target.text), target.name
        assert not re.search(r"read_parquet|'/", target.text), target.name
        assert target.query["format"] == "table", target.name  # zero rows: "No data", not an error


def test_promql_never_matches_on_job_or_instance_and_rates_use_grafana_intervals():
    expressions = [target.text for target in targets(PROMETHEUS_TYPE)]
    assert len(expressions) >= 15
    for expr in expressions:
        assert not re.search(r"\b(job|instance)\b", expr), expr
        for window in re.findall(r"\b(?:rate|increase)\([^\[]*\[([^\]]+)\]", expr):
            assert window in ("$__rate_interval", "$__range"), expr
        for metric in re.findall(
            r"\b([a-z_]+(?:_total|_bucket|_sum|_count|_USD|_state|_spooled))\b", expr
        ):
            assert metric.startswith(("enrichment_logs_", "gen_ai_")), metric


def test_links_point_at_provisioned_dashboards():
    uids = {dashboard["uid"] for dashboard in dashboards().values()}
    for dashboard in dashboards().values():
        text = str(dashboard)
        for uid in re.findall(r"/d/([A-Za-z0-9_-]+)", text):
            assert uid in uids, uid


def test_provisioning_keeps_duckdb_in_memory_and_finds_the_dashboards():
    duckdb = provisioned_datasources()["enrichment-duckdb"]
    assert duckdb["type"] == DUCKDB_TYPE
    assert duckdb["jsonData"]["path"] == ""  # never the live .duckdb file: the writer owns it
    init_sql = duckdb["jsonData"]["initSql"]
    assert "ATTACH IF NOT EXISTS '${ENRICHMENT_LOGS_LAKE}'" in init_sql
    assert "(READ_ONLY)" in init_sql
    assert init_sql.count("$") == 1  # Grafana reads any other `$` as an environment variable
    prometheus = provisioned_datasources()["prometheus"]
    assert prometheus["url"] == "${PROMETHEUS_URL}"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/dashboards.yaml").read_text())
    [files] = provider["providers"]
    assert files["type"] == "file"
    dockerfile = (GRAFANA / "Dockerfile").read_text()
    assert f"COPY dashboards {files['options']['path']}" in dockerfile
    assert "COPY provisioning /etc/grafana/provisioning" in dockerfile


@pytest.mark.parametrize(
    "pinned",
    [
        r"ARG GRAFANA_VERSION=\d+\.\d+\.\d+\n",
        r"FROM grafana/grafana:\$\{GRAFANA_VERSION\}-ubuntu\n",
        r"ARG DUCKDB_PLUGIN_VERSION=0\.4\.5\n",
        r"ARG DUCKDB_VERSION=1\.5\.4\n",
        r"GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=motherduck-duckdb-datasource \\",
        r"GF_AUTH_ANONYMOUS_ENABLED=false",
    ],
)
def test_the_image_pins_an_ubuntu_grafana_and_the_plugin(pinned: str):
    """The plugin needs glibc (not Alpine), bundles DuckDB 1.5.4 at 0.4.5, and is unsigned."""
    assert re.search(pinned, (GRAFANA / "Dockerfile").read_text())


def test_the_image_installs_every_extension_the_init_sql_loads_where_it_loads_them():
    init_sql = provisioned_datasources()["enrichment-duckdb"]["jsonData"]["initSql"]
    dockerfile = (GRAFANA / "Dockerfile").read_text()
    [directory] = re.findall(r"SET extension_directory = '([^']+)';", init_sql)
    assert f"SET extension_directory = '{directory}';" in dockerfile
    loaded = re.findall(r"\bLOAD (\w+);", init_sql)
    assert set(loaded) == {"ducklake", "sqlite_scanner", "postgres_scanner"}
    assert set(re.findall(r"\bINSTALL (\w+);", dockerfile)) == set(loaded)


def test_the_dashboards_directory_holds_only_dashboards():
    assert {path.name for path in (GRAFANA / "dashboards").iterdir()} == set(UIDS)
