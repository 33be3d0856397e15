"""How the reading commands write results: terminal tables, JSON or CSV, to stdout or `-o FILE`.

JSON is the Python API's results field for field: a report is an object of its fields, a table
the list of its `.rows()`, costs and credits exact decimal numbers (parse them with
`parse_float=Decimal` to keep every digit), times ISO 8601 with their offset, ids strings.
CSV is one block per table, introduced by a `# name` line when there are several.
Terminal tables are drawn with `rich` at the terminal's width (`COLUMNS`; 80 when not a terminal).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

if TYPE_CHECKING:
    from rich.console import RenderableType

FORMATS = ("table", "json", "csv")


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """One table of a command's result, for CSV: its name, columns and rows."""

    name: str
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]


def add_output_arguments(parser: argparse.ArgumentParser, formats: Sequence[str] = FORMATS) -> None:
    parser.add_argument("--format", choices=formats, default="table", help="(table)")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )


def plain(value: Any) -> Any:
    """A result as JSON-shaped data: reports as dicts of their fields, tables as row lists."""
    if hasattr(value, "as_row"):
        return plain(value.as_row())
    if hasattr(value, "rows") and hasattr(value, "columns"):  # an analytics Table
        return [plain(row) for row in value.rows()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def to_json(value: Any, indent: int | None = 2) -> str:
    """JSON text of plain data, with decimals written exactly as numbers."""
    return _json(plain(value), indent, 0)


def _json(value: Any, indent: int | None, depth: int) -> str:
    if isinstance(value, Mapping):
        items = [f"{json.dumps(str(k))}: {_json(v, indent, depth + 1)}" for k, v in value.items()]
        return _joined("{", items, "}", indent, depth)
    if isinstance(value, list | tuple):
        return _joined("[", [_json(item, indent, depth + 1) for item in value], "]", indent, depth)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        return format(value, "f")
    return json.dumps(_scalar(value), ensure_ascii=False, allow_nan=False)


def _joined(opening: str, items: list[str], closing: str, indent: int | None, depth: int) -> str:
    if not items:
        return opening + closing
    if indent is None:
        return opening + ", ".join(items) + closing
    inner = "\n" + " " * indent * (depth + 1)
    return opening + inner + ("," + inner).join(items) + "\n" + " " * indent * depth + closing


def _scalar(value: Any) -> Any:
    """A value JSON and CSV can hold: times as ISO 8601, ids as strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def to_csv(sections: Sequence[Section]) -> str:
    out = io.StringIO()
    for index, section in enumerate(sections):
        if len(sections) > 1:
            out.write(("\n" if index else "") + f"# {section.name}\n")
        writer = csv.DictWriter(out, fieldnames=list(section.columns), lineterminator="\n")
        writer.writeheader()
        for row in section.rows:
            writer.writerow({name: _csv_value(row.get(name)) for name in section.columns})
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return _scalar(value)


def write_text(args: argparse.Namespace, text: str) -> None:
    """`text` to `-o FILE` or stdout."""
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def write_rich(args: argparse.Namespace, renderables: Iterable[RenderableType]) -> None:
    """Terminal tables to stdout (coloured on a terminal) or, as plain text, to `-o FILE`."""
    if args.output is not None:
        with args.output.open("w", encoding="utf-8") as file:
            _print_all(file, renderables)
    else:
        _print_all(sys.stdout, renderables)


def _print_all(file: TextIO, renderables: Iterable[RenderableType]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file, highlight=False, soft_wrap=False)
    for renderable in renderables:
        if isinstance(renderable, Table):
            console.print()
        console.print(renderable)


def emit(
    args: argparse.Namespace,
    result: Any,
    sections: Sequence[Section],
    tables: Callable[[], Iterable[RenderableType]],
) -> int:
    """Write `result` in the chosen format: JSON of the result itself, CSV of its sections, or
    the terminal tables (built only when asked for)."""
    if args.format == "json":
        write_text(args, to_json(result) + "\n")
    elif args.format == "csv":
        write_text(args, to_csv(sections))
    else:
        write_rich(args, tables())
    return 0
