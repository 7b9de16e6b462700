"""Typed TOML settings: one way to read a settings file, refuse names it should not hold and check values.

The loaders of the validation thresholds, the monitor's settings and the trigger policy all build frozen
records from a small TOML file. They share what this module does, so every one of them refuses the same
mistakes with the same words: an unreadable file or bad TOML, an unknown or missing table or key (a typo
must never fall back to a default), a boolean where a number belongs (``true`` is an ``int`` in Python),
and a number that is not finite (TOML allows ``nan`` and ``inf``, and no comparison refuses ``nan``).
Every error is a ``ConfigError`` whose message starts with the file's path, unless the loader names
another class of the project's errors for its callers to catch (the rollout's, the evaluation's).
"""

from __future__ import annotations

import math
import tomllib
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from contracts.errors import ConfigError, MlopsError

Built = TypeVar("Built")


def load_toml(
    path: Path,
    build: Callable[[dict[str, Any]], Built],
    *,
    what: str,
    tables: Collection[str],
    top_level: str = "tables",
    error: type[MlopsError] = ConfigError,
) -> Built:
    """Reads a TOML settings file, checks its top-level names and builds the settings from it.

    Args:
        path: The file.
        build: Turns the parsed document into the settings; raises ``ConfigError`` (or ``error``) for a
            bad value.
        what: What the file holds, for the error when it cannot be read ("the trigger policy").
        tables: The top-level names the file must hold, no more and no fewer: its tables, or its keys
            in a file with no tables.
        top_level: What those names are, for the error ("budgets" in a flat file of budgets).
        error: The error class raised, for a loader whose callers catch their step's own error family.

    Returns:
        What ``build`` returned.

    Raises:
        ConfigError: (or ``error``) when the file cannot be read, is not TOML, holds other top-level
            names than ``tables``, or ``build`` refuses it; the message starts with ``path``.

    Example:
        >>> from components.validation.config import THRESHOLDS_PATH
        >>> load_toml(THRESHOLDS_PATH, sorted, what="thresholds", tables=("drift", "skew"))
        ['drift', 'skew']
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    # The checks below raise ConfigError; a caller that named another class gets the same words in it.
    try:
        check_names(document, tables, where=str(path), noun=top_level)
    except ConfigError as exc:
        raise error(str(exc)) from exc
    try:
        return build(document)
    except (ConfigError, error) as exc:
        raise error(f"{path}: {exc}") from exc


def check_names(
    found: Iterable[str],
    expected: Collection[str],
    *,
    where: str,
    noun: str,
    optional: Collection[str] = (),
) -> None:
    """Refuses names that are not expected and expected names that are absent (unless optional).

    Raises:
        ConfigError: ``"<where>: unknown <noun> [...], missing <noun> [...]; expected <noun> [...]"``.
    """
    given = set(found)
    unknown = sorted(given - set(expected))
    missing = sorted(set(expected) - set(optional) - given)
    if unknown or missing:
        raise ConfigError(
            f"{where}: unknown {noun} {unknown}, missing {noun} {missing}; expected {noun} {sorted(expected)}"
        )


def table(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The table ``[name]`` of a parsed document.

    Raises:
        ConfigError: when it is absent or a plain value rather than a table.
    """
    value = document.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] is missing or not a table")
    return value


def integer(value: Any, where: str) -> int:
    """``value`` if it is a whole number (``true`` is not one), else a ``ConfigError`` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    return value


def number(value: Any, where: str) -> float:
    """``value`` as a float if it is a finite number (``true`` is not one), else a ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def names(value: Any, where: str, *, item: str = "name") -> tuple[str, ...]:
    """``value`` as a tuple if it is a list of non-empty strings, else a ``ConfigError``.

    Args:
        value: The parsed value.
        where: Where it stands, for the error ("[data] ignore_features").
        item: What one string names, for the error ("feature name").
    """
    if not isinstance(value, list) or not all(isinstance(entry, str) and entry for entry in value):
        raise ConfigError(f"{where} must be a list of {item}s, got {value!r}")
    return tuple(value)


def table_fields(
    document: Mapping[str, Any],
    name: str,
    record: type[Any],
    *,
    keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The values of table ``[name]``, checked against the field types of the dataclass ``record``.

    Every key must be present and none other may be. Fields typed ``int``, ``float`` and
    ``tuple[str, ...]`` are read with ``integer``, ``number`` and ``names``.

    Args:
        document: The parsed file.
        name: The table.
        record: The dataclass the values are for.
        keys: TOML key to field name, when they differ or the table fills only some fields; by default
            every field of ``record``, under its own name.

    Returns:
        Field name to checked value, ready for ``record(**values)`` (or to merge with other tables').

    Raises:
        ConfigError: for a missing table, a missing or unknown key, or a value of the wrong type.
        TypeError: when ``record`` has a field of another type (a mistake in the code, not the file).

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Window:
        ...     rows: int
        ...     seconds: float
        >>> table_fields({"window": {"rows": 10, "seconds": 5}}, "window", Window)
        {'rows': 10, 'seconds': 5.0}
    """
    given = table(document, name)
    field_of = dict(keys) if keys is not None else {field.name: field.name for field in fields(record)}
    check_names(given, field_of, where=f"[{name}]", noun="keys")
    types = typing.get_type_hints(record)
    values: dict[str, Any] = {}
    for key, field_name in field_of.items():
        where = f"[{name}] {key}"
        kind = types[field_name]
        if kind is int:
            values[field_name] = integer(given[key], where)
        elif kind is float:
            values[field_name] = number(given[key], where)
        elif kind == tuple[str, ...]:
            values[field_name] = names(given[key], where)
        else:
            raise TypeError(f"{record.__name__}.{field_name}: no TOML reading for fields of type {kind}")
    return values
