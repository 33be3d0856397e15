"""Guard settings: every one from its configure() keyword or environment variable, and a bad value
is a ConfigurationError naming the variable and what was expected."""

from __future__ import annotations

from decimal import Decimal

import pytest

import enrichment_logs as el
from enrichment_logs.config import Settings
from enrichment_logs.guards.settings import BreakerRule, BudgetLimit, RetryRule


def test_every_guard_setting_reads_its_environment_variable(tmp_path):
    settings = Settings.load(
        {},
        {
            "ENRICHMENT_LOGS_DB_PATH": str(tmp_path / "env.duckdb"),
            "ENRICHMENT_LOGS_BUDGETS": "daily=50, monthly=1000, exa.daily=5, lead.daily=$0.50, "
            "openai.estimate=0.02",
            "ENRICHMENT_LOGS_BUDGET_WARNINGS": "50%,90%,100%",
            "ENRICHMENT_LOGS_BUDGET_ENFORCE": "false",
            "ENRICHMENT_LOGS_BREAKER": "failures=3,window=2m,cooldown=10s,per=operation,"
            "exa.failures=2",
            "ENRICHMENT_LOGS_RETRY": "attempts=4,total=30s,openai.attempts=1",
            "ENRICHMENT_LOGS_CACHE": "firecrawl.scrape=1h,exa.search=10m",
        },
    )
    assert settings.budgets.limits == (
        BudgetLimit("day", "global", "", Decimal(50)),
        BudgetLimit("month", "global", "", Decimal(1000)),
        BudgetLimit("day", "provider", "exa", Decimal(5)),
        BudgetLimit("day", "lead", "", Decimal("0.50")),
    )
    assert settings.budgets.estimates == {"openai": Decimal("0.02")}
    assert settings.budget_warnings == (Decimal("0.5"), Decimal("0.9"), Decimal(1))
    assert settings.budget_enforce is False
    breaker = settings.breaker
    assert breaker is not None and breaker.per_operation
    assert breaker.for_provider("openai") == BreakerRule(3, 120.0, 10.0)
    assert breaker.for_provider("exa") == BreakerRule(2, 120.0, 10.0)
    retry = settings.retry
    assert retry is not None and retry.for_provider("exa") == RetryRule(
        attempts=4, total_seconds=30
    )
    assert retry.for_provider("openai").attempts == 1
    assert settings.cache == {"firecrawl.scrape": 3600.0, "exa.search": 600.0}
    assert settings.resolved_cache_path == tmp_path / "env.duckdb.cache"


def test_keywords_take_mappings_and_switches():
    settings = Settings.load(
        {
            "budgets": {"daily": 5, "exa.monthly": "20"},
            "breaker": True,
            "retry": {"attempts": 2},
            "cache": {"exa.search": 90},
        }
    )
    assert [limit.amount for limit in settings.budgets.limits] == [Decimal(5), Decimal(20)]
    assert settings.breaker is not None and settings.breaker.default == BreakerRule()
    assert settings.retry is not None and settings.retry.default.attempts == 2
    assert settings.cache == {"exa.search": 90.0}
    off = Settings.load({"breaker": "off", "retry": False})
    assert off.breaker is None and off.retry is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ENRICHMENT_LOGS_BUDGETS", "lead=0.5", "lead.daily=0.5 or lead.monthly=0.5"),
        ("ENRICHMENT_LOGS_BUDGETS", "daily=lots", "expected an amount in USD"),
        ("ENRICHMENT_LOGS_BUDGETS", "daily=-1", "at least 0"),
        ("ENRICHMENT_LOGS_BUDGETS", "weekly=5", "expected daily, monthly"),
        ("ENRICHMENT_LOGS_BUDGETS", "exa.search.daily=5", "global, per provider or per lead"),
        ("ENRICHMENT_LOGS_BUDGETS", "daily", "expected KEY=VALUE"),
        ("ENRICHMENT_LOGS_BUDGET_WARNINGS", "80%,lots", "e.g. 80% or 0.8"),
        ("ENRICHMENT_LOGS_BUDGET_WARNINGS", "0%", "more than 0"),
        ("ENRICHMENT_LOGS_BUDGET_ENFORCE", "maybe", "expected true or false"),
        ("ENRICHMENT_LOGS_BREAKER", "failures=0", "at least 1"),
        ("ENRICHMENT_LOGS_BREAKER", "cooldown=soon", "not a duration"),
        ("ENRICHMENT_LOGS_BREAKER", "per=lead", "per=provider or per=operation"),
        ("ENRICHMENT_LOGS_RETRY", "tries=3", "FIELD one of attempts, total, max_wait, base"),
        ("ENRICHMENT_LOGS_RETRY", "total=0s", "more than 0"),
        ("ENRICHMENT_LOGS_CACHE", "exa.search=1y", "not a duration"),
        ("ENRICHMENT_LOGS_CACHE", "exa.search=90d", "at most 30d"),
    ],
)
def test_a_bad_value_names_its_variable_and_what_was_expected(variable, value, message):
    with pytest.raises(el.ConfigurationError, match=variable) as raised:
        Settings.load({}, {variable: value})
    assert message in str(raised.value)


def test_configure_refuses_a_bad_guard_setting_before_the_pipeline_starts(tmp_path):
    with pytest.raises(el.ConfigurationError, match="budgets: daily=lots"):
        el.configure(tmp_path / "x.duckdb", budgets="daily=lots")
    assert not (tmp_path / "x.duckdb").exists()


def test_tool_options_are_checked_when_the_decorator_is_applied():
    with pytest.raises(ValueError, match="retry=0"):
        el.tool("exa", "search", retry=0)
    with pytest.raises(ValueError, match="cache_ttl='forever'"):
        el.tool("exa", "search", cache_ttl="forever")
