"""configure(): idempotent, configurable from the environment, loud about bad settings."""

from __future__ import annotations

import pytest

import enrichment_logs as el
from enrichment_logs.config import Settings


def test_configure_twice_returns_the_same_handle(tmp_path):
    first = el.configure(tmp_path / "a.duckdb", console=False)
    try:
        assert el.configure(tmp_path / "a.duckdb", console=False) is first
    finally:
        first.shutdown()


def test_configure_again_after_shutdown_writes_to_the_new_file(tmp_path):
    from tests.conftest import read_rows

    @el.tool("exa", "search", cost="0.007")
    def search() -> None:
        return None

    for name in ("first.duckdb", "second.duckdb"):
        handle = el.configure(tmp_path / name, console=False)
        search()
        handle.flush()
        handle.shutdown()
    assert len(read_rows(tmp_path / "first.duckdb")) == 1
    assert len(read_rows(tmp_path / "second.duckdb")) == 1


def test_every_option_reads_its_environment_variable(tmp_path):
    settings = Settings.load(
        {},
        {
            "ENRICHMENT_LOGS_DB_PATH": str(tmp_path / "env.duckdb"),
            "ENRICHMENT_LOGS_CONSOLE": "false",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            "OTEL_SERVICE_NAME": "lead-enricher",
            "ENRICHMENT_LOGS_FIRECRAWL_USD_PER_CREDIT": "0.00083",
            "ENRICHMENT_LOGS_MAX_QUEUE_SIZE": "5000",
        },
    )
    assert settings.db_path == tmp_path / "env.duckdb"
    assert settings.resolved_spool_dir == tmp_path / "env.duckdb.spool"
    assert settings.console == "off" and settings.capture_content is True
    assert settings.service_name == "lead-enricher"
    assert str(settings.firecrawl_usd_per_credit) == "0.00083"
    assert settings.max_queue_size == 5000


def test_an_argument_beats_the_environment():
    settings = Settings.load({"console": "verbose"}, {"ENRICHMENT_LOGS_CONSOLE": "off"})
    assert settings.console == "verbose"
    assert Settings.load({"console": True}).console == "terse"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ENRICHMENT_LOGS_CONSOLE", "loud", "expected off, terse, verbose"),
        ("ENRICHMENT_LOGS_MAX_QUEUE_SIZE", "-3", "greater than 0"),
        ("ENRICHMENT_LOGS_FIRECRAWL_USD_PER_CREDIT", "cheap", "expected a number"),
        ("ENRICHMENT_LOGS_DB_PATH", "  ", "expected a file path"),
    ],
)
def test_a_bad_environment_value_is_a_clear_error(variable, value, message):
    with pytest.raises(el.ConfigurationError, match=variable) as raised:
        Settings.load({}, {variable: value})
    assert message in str(raised.value)


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path):
    notes = tmp_path / "notes.duckdb"
    notes.write_text("my notes, not a database\n")
    with pytest.raises(Exception, match="not") as raised:
        el.configure(notes, console=False)
    assert str(notes) in str(raised.value)
    assert notes.read_text() == "my notes, not a database\n"
