"""Infra-validation budgets: one TOML file, read into a frozen dataclass."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from components.errors import ConfigError

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

    Raises:
        ConfigError: when the file is unreadable, a field is missing or unknown, or a value is not positive.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read infra-validation budgets: {exc}") from exc
    names = {field.name for field in fields(Budgets)}
    unknown, missing = sorted(set(raw) - set(names)), sorted(set(names) - set(raw))
    if unknown or missing:
        raise ConfigError(f"{path}: unknown budgets {unknown}, missing budgets {missing}")
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{path}: {name} must be a positive number, got {value!r}")
    return Budgets(
        max_model_size_mb=float(raw["max_model_size_mb"]),
        max_resident_memory_mb=float(raw["max_resident_memory_mb"]),
        max_p99_latency_ms=float(raw["max_p99_latency_ms"]),
        latency_requests=int(raw["latency_requests"]),
        batch_rows=int(raw["batch_rows"]),
    )
