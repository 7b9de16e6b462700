"""The one place that touches ML Metadata's raw protos and errors.

``metadata_store_pb2`` is generated code shipped without type stubs, so mypy sees none of its classes.
Rather than scatter ``type: ignore`` comments, the module is bound once to an ``Any``-typed name here and
the rest of the package handles protos as ``Any`` behind typed functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeAlias

from ml_metadata import errors as mlmd_errors
from ml_metadata.proto import metadata_store_pb2

from contracts.errors import LineageError

pb2: Any = metadata_store_pb2

Proto: TypeAlias = Any
"""A message from ``metadata_store_pb2`` (Artifact, Execution, Context, Event, Value, ...)."""

PropertyValue: TypeAlias = str | int | float | bool

AlreadyExistsError = mlmd_errors.AlreadyExistsError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turns ML Metadata failures raised inside the block into ``LineageError``.

    MLMD reports store errors as ``ml_metadata.errors.StatusError`` subclasses, but a database it cannot
    open surfaces as a bare ``RuntimeError`` from its C++ binding, so both are caught.

    Args:
        action: What was being done, phrased to follow "while" in the message.
    """
    try:
        yield
    except (mlmd_errors.StatusError, RuntimeError) as exc:
        raise LineageError(f"ML Metadata failed while {action}: {exc}") from exc


def set_value(target: Proto, key: str, value: PropertyValue) -> None:
    """Stores ``value`` in an MLMD ``Value`` message, choosing the field from the Python type.

    Raises:
        LineageError: for a type MLMD cannot hold or an int outside int64.
    """
    # bool before int: bool is a subclass of int and would otherwise be stored as 0/1.
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise LineageError(f"property {key!r}: {value} does not fit in a 64-bit integer")
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    else:
        raise LineageError(
            f"property {key!r}: {type(value).__name__} is not storable; use str, int, float or bool"
        )


def get_value(value: Proto) -> PropertyValue:
    """Returns the Python value held in an MLMD ``Value`` message."""
    kind = value.WhichOneof("value")
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "int_value":
        return int(value.int_value)
    if kind == "double_value":
        return float(value.double_value)
    if kind == "string_value":
        return str(value.string_value)
    # Struct and proto values are never written by this package; other writers' ones stay readable as text.
    return str(getattr(value, kind)) if kind else ""


def properties_of(mapping: Proto) -> dict[str, PropertyValue]:
    """Converts an MLMD property map (``properties`` or ``custom_properties``) into a plain dict."""
    return {key: get_value(mapping[key]) for key in sorted(mapping)}


def fill_properties(target: Proto, values: Mapping[str, PropertyValue]) -> None:
    """Writes a plain dict into an MLMD property map."""
    for key, value in values.items():
        set_value(target[key], key, value)
