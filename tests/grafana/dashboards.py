"""The dashboards and provisioning under grafana/, and Grafana's way of expanding their queries.

Grafana cannot run here, so the tests do what it does to a query before a datasource runs it:
- the frontend replaces template variables (`$var`, `${var}`, `${var:format}`) and the built-in
  intervals (`$__interval_ms`, `$__rate_interval`, `$__range`, ...). The DuckDB plugin replaces
  with the `sqlstring` format unless the query names another (its `interpolate()`), Prometheus
  panels here always name theirs;
- the DuckDB plugin's backend then expands the SQL macros of grafana-plugin-sdk-go's sqlutil as
  the plugin overrides them: `$__timeFilter(col)` -> `col >= '<from>' AND col <= '<to>'`,
  `$__timeFrom()` / `$__timeTo()` -> a quoted RFC 3339 UTC time (seconds).
Any other `$` left over is an error: a macro the plugin does not have, or an undefined variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

GRAFANA = Path(__file__).resolve().parents[2] / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "datasources.yaml"
DUCKDB_TYPE = "motherduck-duckdb-datasource"
PROMETHEUS_TYPE = "prometheus"

# Grafana's variable syntax (public/app/features/variables/utils.ts, variableRegex).
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
_SQL_MACRO = re.compile(r"\$__(\w+)\(([^)]*)\)")
BUILT_INS = frozenset(
    {
        "__interval",
        "__interval_ms",
        "__rate_interval",
        "__range",
        "__range_s",
        "__range_ms",
        "__from",
        "__to",
    }
)
"""Variables Grafana itself defines for queries."""
SQL_MACROS = frozenset({"__timeFilter", "__timeFrom", "__timeTo"})


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: dict[str, Any]
    query: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.dashboard}: {self.panel['title']} [{self.query['refId']}]"

    @property
    def datasource_type(self) -> str:
        return str((self.query.get("datasource") or self.panel["datasource"])["type"])

    @property
    def text(self) -> str:
        return str(self.query.get("rawSql") or self.query.get("expr") or "")


def dashboards() -> dict[str, dict[str, Any]]:
    """Each dashboard file's JSON, by file name."""
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows and the panels inside collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(kind: str | None = None) -> list[Target]:
    found = [
        Target(dashboard["title"], panel, query)
        for dashboard in dashboards().values()
        for panel in panels(dashboard)
        for query in panel.get("targets", [])
    ]
    return [target for target in found if kind is None or target.datasource_type == kind]


def provisioned_datasources() -> dict[str, dict[str, Any]]:
    """The provisioned datasources by uid."""
    document = yaml.safe_load(DATASOURCES.read_text())
    return {str(source["uid"]): source for source in document["datasources"]}


def variable_names(text: str) -> set[str]:
    """Names of the template variables `text` uses (macros like `$__timeFilter(` excluded)."""
    names = set()
    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(2) or match.group(4)
        if name in SQL_MACROS and text[match.end() : match.end() + 1] == "(":
            continue
        names.add(name)
    return names


@dataclass(frozen=True)
class Selection:
    """A variable's current value: one value, or the several values of a multi-select."""

    values: tuple[str, ...]
    multi: bool = False


def _format(selection: Selection, format_id: str | None, default: str) -> str:
    values = selection.values
    match format_id or default:
        case "sqlstring":
            return ",".join("'" + value.replace("'", "''") + "'" for value in values)
        case "raw":
            return ",".join(values)
        case "regex":
            escaped = [re.sub(r"[\\^$*+?.()|{}\[\]/]", r"\\\g<0>", value) for value in values]
            return (
                escaped[0]
                if len(escaped) == 1 and not selection.multi
                else f"({'|'.join(escaped)})"
            )
        case other:
            raise AssertionError(f"format {other!r} is not one the tests know")


def interpolate(text: str, variables: Mapping[str, Selection], *, default_format: str) -> str:
    """Grafana's frontend replacement of template and built-in variables."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        if name in SQL_MACROS:
            return match.group(0)  # the backend's
        if name not in variables:
            raise AssertionError(f"undefined variable ${name} in {text!r}")
        return _format(variables[name], match.group(3) or match.group(6), default_format)

    return _VARIABLE.sub(replace, text)


def expand_sql(
    raw_sql: str,
    variables: Mapping[str, Selection],
    time_from: datetime,
    time_to: datetime,
    interval_ms: int,
) -> str:
    """What the DuckDB plugin runs for a panel's rawSql."""
    scoped = {**variables, "__interval_ms": Selection((str(interval_ms),))}
    text = interpolate(raw_sql, scoped, default_format="sqlstring")
    start, end = (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (time_from, time_to)
    )

    def macro(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2).strip()
        if name == "timeFilter" and argument:
            return f"{argument} >= '{start}' AND {argument} <= '{end}'"
        if name in ("timeFrom", "timeTo") and not argument:
            return f"'{start if name == 'timeFrom' else end}'"
        raise AssertionError(f"$__{name}({argument}) is not a macro of the DuckDB plugin")

    expanded = _SQL_MACRO.sub(macro, text)
    assert "$" not in expanded, f"unexpanded $ in {expanded!r}"
    return expanded


def expand_promql(
    expr: str, variables: Mapping[str, Selection], builtins: Mapping[str, str]
) -> str:
    """What the Prometheus datasource sends for a panel's expr."""
    scoped = {**variables, **{name: Selection((value,)) for name, value in builtins.items()}}
    expanded = interpolate(expr, scoped, default_format="regex")
    assert "$" not in expanded, f"unexpanded $ in {expanded!r}"
    return expanded


def sql_variable_queries() -> list[tuple[str, str, dict[str, Any]]]:
    """(dashboard, variable name, variable) of every query variable on the DuckDB datasource."""
    return [
        (dashboard["title"], variable["name"], variable)
        for dashboard in dashboards().values()
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query" and variable["datasource"]["type"] == DUCKDB_TYPE
    ]


def selections(
    dashboard: Mapping[str, Any], options: Mapping[str, Sequence[str]]
) -> dict[str, Selection]:
    """Every variable of a dashboard as the dashboard opens: All where it offers All, else the
    first option; `options` gives each query variable's options (as its query returned them)."""
    chosen = {}
    for variable in dashboard["templating"]["list"]:
        name = variable["name"]
        if variable["type"] == "constant":
            chosen[name] = Selection((str(variable["query"]),))
            continue
        values = tuple(options[name])
        assert values, f"variable {name} of {dashboard['title']} has no options"
        if variable.get("includeAll"):
            chosen[name] = Selection(values, multi=True)
        else:
            chosen[name] = Selection(values[:1], multi=bool(variable.get("multi")))
    return chosen
