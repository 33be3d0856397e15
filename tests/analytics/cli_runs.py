"""Running `enrichment-logs` commands in this process, and the API's results as the JSON the
commands promise (times ISO 8601, ids strings, every other value as the API gives it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from enrichment_logs.analytics import Table
from enrichment_logs.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`enrichment-logs ARGV`: its exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def parsed(text: str) -> Any:
    """JSON with every number kept exactly (decimals as the API's `Decimal`s)."""
    return json.loads(text, parse_float=Decimal)


def as_json(value: Any) -> Any:
    """An API result as `parsed` should read the command's JSON of it: a table is its
    `.rows()`, a report the dict of its fields, a float the exact number its repr spells."""
    if isinstance(value, Table):
        return [as_json(row) for row in value.rows()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: as_json(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def widest_line(text: str) -> int:
    return max(len(line) for line in text.splitlines())
