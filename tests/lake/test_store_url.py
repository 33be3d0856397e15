"""A store URL names a DuckDB file or a DuckLake; anything else is refused, saying what is right."""

from __future__ import annotations

from pathlib import Path

import pytest

import enrichment_logs as el
from enrichment_logs.config import ConfigurationError, Settings
from enrichment_logs.export.store_url import DuckDBUrl, DuckLakeUrl, parse_store_url
from tests.analytics.cli_runs import run


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("logs.duckdb", DuckDBUrl(Path("logs.duckdb"))),
        ("duckdb:/var/lib/logs.duckdb", DuckDBUrl(Path("/var/lib/logs.duckdb"))),
        ("ducklake:sqlite:/var/lake.sqlite", DuckLakeUrl("sqlite", "/var/lake.sqlite")),
        (
            "ducklake:sqlite:lake.sqlite?data_path=/srv/lake/",
            DuckLakeUrl("sqlite", "lake.sqlite", "/srv/lake/"),
        ),
        (
            "ducklake:postgres:dbname=lake host=db user=el?data_path=s3://bucket/lake/",
            DuckLakeUrl("postgres", "dbname=lake host=db user=el", "s3://bucket/lake/"),
        ),
        (
            "ducklake:postgres:postgresql://el@db/lake?sslmode=require?data_path=/lake",
            DuckLakeUrl("postgres", "postgresql://el@db/lake?sslmode=require", "/lake"),
        ),
    ],
)
def test_a_store_url_names_a_file_or_a_lake(text, expected):
    assert parse_store_url(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("duckdb:", "needs a file path"),
        ("ducklake:", "needs its catalog"),
        ("ducklake:/var/lake.ducklake", "needs its catalog"),
        ("ducklake:mysql:host=db", "catalog 'mysql' is not supported"),
        ("ducklake:sqlite:", "needs the SQLite file's path"),
        ("ducklake:postgres:", "needs a connection string"),
        ("ducklake:postgres:dbname=lake?data_path=", "?data_path= is empty"),
        ("ducklake:sqlite:lake.sqlite?mode=ro", "only option"),
        ("postgres:dbname=lake", "unknown store type 'postgres'"),
        ("lake:x", "unknown store type 'lake'"),
    ],
)
def test_a_malformed_store_url_is_a_configuration_error_that_says_what_was_expected(text, message):
    with pytest.raises(ConfigurationError, match="ENRICHMENT_LOGS_STORE") as raised:
        Settings.load({}, {"ENRICHMENT_LOGS_STORE": text})
    assert message in str(raised.value)
    if text:
        assert "ducklake:sqlite:PATH" in str(raised.value)  # what would have been right


def test_configure_refuses_a_malformed_store_before_the_pipeline_starts():
    with pytest.raises(ConfigurationError, match="store: 'ducklake:mysql:x'"):
        el.configure(store="ducklake:mysql:x", console=False)


def test_a_password_in_the_url_is_never_shown():
    url = parse_store_url("ducklake:postgres:host=db password=hunter2 dbname=lake")
    assert "hunter2" not in str(url)
    uri = parse_store_url("ducklake:postgres:postgresql://el:hunter2@db/lake?data_path=/l")
    assert "hunter2" not in str(uri)
    assert str(uri) == "ducklake:postgres:postgresql://el:***@db/lake?data_path=/l"
    with pytest.raises(ConfigurationError) as raised:
        Settings.load({"store": "ducklake:mysql:password=hunter2"})
    assert "hunter2" not in str(raised.value)


def test_the_store_defaults_to_the_db_path_and_an_explicit_path_beats_the_variable(tmp_path):
    lake = {"ENRICHMENT_LOGS_STORE": f"ducklake:sqlite:{tmp_path}/lake.sqlite"}
    assert Settings.load({}, {}).resolved_store == DuckDBUrl(Path("enrichment_logs.duckdb"))
    from_variable = Settings.load({}, lake)
    assert from_variable.resolved_store == DuckLakeUrl("sqlite", f"{tmp_path}/lake.sqlite")
    assert from_variable.resolved_spool_dir == tmp_path / "lake.sqlite.spool"
    explicit = Settings.load({"db_path": tmp_path / "x.duckdb"}, lake)
    assert explicit.resolved_store == DuckDBUrl(tmp_path / "x.duckdb")
    with pytest.raises(ConfigurationError, match="not both"):
        Settings.load({"db_path": "x.duckdb", "store": lake["ENRICHMENT_LOGS_STORE"]})


@pytest.mark.parametrize(
    "command", ["report", "leads", "forget --lead x", "store compact", "retain --days 1"]
)
def test_every_command_says_what_is_wrong_with_a_store_url_in_one_line(capsys, command):
    code, _, err = run(capsys, *command.split(), "--store", "lake:x")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "unknown store type 'lake'" in err
