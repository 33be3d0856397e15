"""Settings for `configure()`: each from its argument, else its environment variable, else default.

Environment variables let a pipeline be configured without code changes (containers, cron jobs,
`opentelemetry-instrument`). A value that cannot be parsed is a `ConfigurationError` naming the
variable, raised by `configure()` before the pipeline starts, never later in a call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from enrichment_logs.export.store_url import (
    DuckDBUrl,
    DuckLakeUrl,
    StoreUrl,
    StoreUrlError,
    parse_store_url,
)
from enrichment_logs.guards import settings as guard_settings
from enrichment_logs.guards.settings import BreakerSettings, Budgets, ProviderRules, RetryRule
from enrichment_logs.instrumentation.routes import parse_routes
from enrichment_logs.pricing.usage import to_decimal

ConsoleMode = Literal["off", "terse", "verbose"]

# The GenAI conventions' newer capture modes count as "on" for the content we store.
_TRUE = {"1", "true", "yes", "on", "span_only", "event_only", "span_and_event"}
_FALSE = {"0", "false", "no", "off", "", "no_content"}


class ConfigurationError(ValueError):
    """A setting (argument or environment variable) has a value enrichment-logs cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every option of `configure()`, with the environment variable that can set it."""

    db_path: Path = Path("enrichment_logs.duckdb")
    """ENRICHMENT_LOGS_DB_PATH: the DuckDB file rows are written to (the store `duckdb:PATH`)."""
    store: StoreUrl | None = None
    """ENRICHMENT_LOGS_STORE: where rows are written, as a store URL (`export/store_url.py`):
    `duckdb:PATH`, `ducklake:sqlite:PATH` or `ducklake:postgres:DSN`, each DuckLake optionally
    ending `?data_path=DIR`; default `duckdb:<db_path>`. An explicit `db_path` argument beats
    this variable."""
    spool_dir: Path | None = None
    """ENRICHMENT_LOGS_SPOOL_DIR: write-ahead spool; default `<db_path>.spool`."""
    publish_dir: Path | None = None
    """ENRICHMENT_LOGS_PUBLISH_DIR: where the writer of a DuckDB file publishes its table, as a
    DuckLake with a SQLite catalog, for readers that must not open the live file; default
    `<db_path>.lake`."""
    publish_interval_seconds: float = 5.0
    """ENRICHMENT_LOGS_PUBLISH_INTERVAL_SECONDS: least time between two publishes (longer when a
    publish is costly, see `export.publish`); 0 turns publishing off."""
    console: ConsoleMode = "terse"
    """ENRICHMENT_LOGS_CONSOLE: live cost lines through the `enrichment_logs.console` logger:
    `off`, `terse` or `verbose` (`true` means terse, `false` off)."""
    capture_content: bool = False
    """ENRICHMENT_LOGS_CAPTURE_CONTENT (or OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT):
    store scrubbed request and response content instead of metadata only."""
    content_max_bytes: int = 16_384
    """ENRICHMENT_LOGS_CONTENT_MAX_BYTES: cap on captured content per request or response."""
    service_name: str = "enrichment-pipeline"
    """ENRICHMENT_LOGS_SERVICE_NAME (or OTEL_SERVICE_NAME): the row's `service_name`."""
    price_overrides: Path | None = None
    """ENRICHMENT_LOGS_PRICE_OVERRIDES: a TOML file of prices that beat the built-in tables."""
    firecrawl_usd_per_credit: Decimal | None = None
    """ENRICHMENT_LOGS_FIRECRAWL_USD_PER_CREDIT: your Firecrawl plan's dollars per credit."""
    max_queue_size: int = 100_000
    """ENRICHMENT_LOGS_MAX_QUEUE_SIZE: spans held in memory while the exporter catches up."""
    instrument: bool = True
    """ENRICHMENT_LOGS_INSTRUMENT: log the OpenAI SDK and the httpx/requests calls to Perplexity,
    Exa and Firecrawl automatically."""
    metrics_port: int | None = None
    """ENRICHMENT_LOGS_METRICS_PORT: serve the metrics for Prometheus on this port (`/metrics`);
    off by default."""
    metrics_host: str = "127.0.0.1"
    """ENRICHMENT_LOGS_METRICS_HOST: the address the Prometheus endpoint listens on (`0.0.0.0` in
    a container)."""
    provider_routes: Mapping[str, str] = field(default_factory=dict)
    """ENRICHMENT_LOGS_PROVIDER_ROUTES (`URL=PROVIDER,...`): more hosts or URL prefixes that are a
    provider (a proxy, a gateway, an emulator); each prefix stands for the provider's API root."""
    budgets: Budgets = field(default_factory=Budgets)
    """ENRICHMENT_LOGS_BUDGETS: hard limits and estimates, e.g.
    `daily=50,monthly=1000,exa.daily=5,lead.daily=0.50` (see `guards/settings.py`)."""
    budget_warnings: tuple[Decimal, ...] = (Decimal("0.8"), Decimal(1))
    """ENRICHMENT_LOGS_BUDGET_WARNINGS: shares of a limit that warn once per period (`80%,100%`)."""
    budget_enforce: bool = True
    """ENRICHMENT_LOGS_BUDGET_ENFORCE: refuse calls that would pass a limit (`false`: warn only)."""
    breaker: BreakerSettings | None = None
    """ENRICHMENT_LOGS_BREAKER: circuit breakers, `on`, `off` (default) or
    `failures=5,window=60s,cooldown=30s[,per=operation][,PROVIDER.FIELD=VALUE]`."""
    retry: ProviderRules[RetryRule] | None = None
    """ENRICHMENT_LOGS_RETRY: retries of instrumented calls, `on`, `off` (default) or
    `attempts=3,total=60s,max_wait=30s,base=0.5s[,PROVIDER.FIELD=VALUE]`."""
    cache: Mapping[str, float] = field(default_factory=dict)
    """ENRICHMENT_LOGS_CACHE: response cache TTLs, e.g. `firecrawl.scrape=1h,exa.search=10m`."""
    cache_path: Path | None = None
    """ENRICHMENT_LOGS_CACHE_PATH: the cache's DuckDB file; default `<db_path>.cache`."""

    @property
    def resolved_cache_path(self) -> Path:
        return self.cache_path or self.db_path.with_name(self.db_path.name + ".cache")

    @property
    def resolved_store(self) -> StoreUrl:
        return self.store or DuckDBUrl(self.db_path)

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or self.resolved_store.sibling(".spool")

    @property
    def resolved_publish_dir(self) -> Path:
        return self.publish_dir or self.resolved_store.sibling(".lake")

    @classmethod
    def load(
        cls, arguments: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Explicit arguments beat the environment, which beats the defaults."""
        env = os.environ if environ is None else environ
        unknown = set(arguments) - {setting.name for setting in fields(cls)}
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for setting in fields(cls):
            if arguments.get(setting.name) is not None:
                values[setting.name] = _PARSERS[setting.name](arguments[setting.name], setting.name)
                continue
            for variable in _ENV_NAMES[setting.name]:
                if variable in env:
                    values[setting.name] = _PARSERS[setting.name](env[variable], variable)
                    break
        if arguments.get("db_path") is not None and arguments.get("store") is None:
            values.pop("store", None)  # an explicit path beats ENRICHMENT_LOGS_STORE
        elif arguments.get("db_path") is not None and values["store"] != DuckDBUrl(
            values["db_path"]
        ):
            raise ConfigurationError("give db_path or store, not both")
        return cls(**values)


def _boolean(value: object, name: str) -> bool:
    text = str(value)
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name}={text!r}: expected true or false")


def _console_mode(value: object, name: str) -> ConsoleMode:
    text = str(value).strip().lower()
    if text in ("terse", "verbose", "off"):
        return cast(ConsoleMode, text)
    try:
        return "terse" if _boolean(text, name) else "off"
    except ConfigurationError:
        raise ConfigurationError(
            f"{name}={value!r}: expected off, terse, verbose, true or false"
        ) from None


def _positive_int(value: object, name: str) -> int:
    text = str(value)
    try:
        number = int(text)
    except ValueError:
        raise ConfigurationError(f"{name}={text!r}: expected a whole number") from None
    if number <= 0:
        raise ConfigurationError(f"{name}={text!r}: must be greater than 0")
    return number


def _seconds(value: object, name: str) -> float:
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        raise ConfigurationError(f"{name}={text!r}: expected a number of seconds") from None
    if not 0 <= number < float("inf"):
        raise ConfigurationError(f"{name}={text!r}: expected a number of seconds, at least 0")
    return number


def _decimal(value: object, name: str) -> Decimal:
    invalid: dict[str, str] = {}
    number = to_decimal(str(value).strip(), name, invalid)
    if number is None:
        raise ConfigurationError(
            f"{name}={value!r}: expected a number of at least 0 ({invalid[name]})"
        )
    return number


def _path(value: object, name: str) -> Path:
    text = str(value)
    if not text.strip():
        raise ConfigurationError(f"{name} is empty: expected a file path")
    return Path(text).expanduser()


def _text(value: object, name: str) -> str:
    text = str(value)
    if not text.strip():
        raise ConfigurationError(f"{name} is empty")
    return text.strip()


def _port(value: object, name: str) -> int:
    number = _positive_int(value, name)
    if number > 65535:
        raise ConfigurationError(f"{name}={value!r}: a port is at most 65535")
    return number


def _store(value: object, name: str) -> StoreUrl:
    if isinstance(value, DuckDBUrl | DuckLakeUrl):
        return value
    try:
        return parse_store_url(value if isinstance(value, Path) else str(value))
    except StoreUrlError as error:
        raise ConfigurationError(f"{name}: {error}") from None


def _routes(value: object, name: str) -> Mapping[str, str]:
    try:
        if isinstance(value, Mapping):
            return parse_routes(",".join(f"{url}={provider}" for url, provider in value.items()))
        return parse_routes(str(value))
    except ValueError as error:
        raise ConfigurationError(f"{name}: {error}") from None


def _guard(parse: Callable[[object], Any]) -> Callable[[object, str], Any]:
    """A guard setting's parser (`guards/settings.py`), its errors naming the variable."""

    def parser(value: object, name: str) -> Any:
        try:
            return parse(value)
        except ValueError as error:
            raise ConfigurationError(f"{name}: {error}") from None

    return parser


_PARSERS: Mapping[str, Callable[[object, str], Any]] = {
    "db_path": _path,
    "store": _store,
    "spool_dir": _path,
    "publish_dir": _path,
    "publish_interval_seconds": _seconds,
    "console": _console_mode,
    "capture_content": _boolean,
    "content_max_bytes": _positive_int,
    "service_name": _text,
    "price_overrides": _path,
    "firecrawl_usd_per_credit": _decimal,
    "max_queue_size": _positive_int,
    "provider_routes": _routes,
    "instrument": _boolean,
    "metrics_port": _port,
    "metrics_host": _text,
    "budgets": _guard(guard_settings.parse_budgets),
    "budget_warnings": _guard(guard_settings.parse_warnings),
    "budget_enforce": _boolean,
    "breaker": _guard(guard_settings.parse_breaker),
    "retry": _guard(guard_settings.parse_retry),
    "cache": _guard(guard_settings.parse_cache),
    "cache_path": _path,
}

_ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    name: (f"ENRICHMENT_LOGS_{name.upper()}",) for name in _PARSERS
} | {
    "capture_content": (
        "ENRICHMENT_LOGS_CAPTURE_CONTENT",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    ),
    "service_name": ("ENRICHMENT_LOGS_SERVICE_NAME", "OTEL_SERVICE_NAME"),
}
