"""How commands print: aligned plain-text tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO


def print_json(payload: Any, stream: TextIO | None = None) -> None:
    json.dump(payload, stream or sys.stdout, indent=2, sort_keys=True, default=str)
    (stream or sys.stdout).write("\n")


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Renders rows as an aligned text table with a header line."""
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in cells
    ]
    return "\n".join(line.rstrip() for line in lines)
