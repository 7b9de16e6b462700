"""Infra-validation budgets: one TOML file, read into a frozen dataclass."""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from components.toml_config import integer, load_toml, number
from contracts.errors import ConfigError

BUDGETS_PATH = Path(__file__).with_name("budgets.toml")


@dataclass(frozen=True)
class Budgets:
    max_model_size_mb: float
    max_resident_memory_mb: float
    max_p99_latency_ms: float
    latency_requests: int
    batch_rows: int


def load_budgets(path: Path = BUDGETS_PATH) -> Budgets:
    """Reads budgets; every field is required, so a typo cannot silently fall back to a default.

    The file has no tables: each budget is a top-level key.

    Raises:
        ConfigError: when the file is unreadable, a field is missing or unknown, or a value is not a
            positive number (a whole one for the counts); the message starts with ``path``.
    """
    return load_toml(
        path,
        _budgets,
        what="infra-validation budgets",
        tables=[field.name for field in fields(Budgets)],
        top_level="budgets",
    )


def _budgets(document: dict[str, Any]) -> Budgets:
    types = typing.get_type_hints(Budgets)
    values: dict[str, Any] = {}
    for name, value in document.items():
        checked = integer(value, name) if types[name] is int else number(value, name)
        if checked <= 0:
            raise ConfigError(f"{name} must be a positive number, got {value!r}")
        values[name] = checked
    return Budgets(**values)
