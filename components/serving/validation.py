"""Turns a Seldon request message into a validated ``FeatureBatch``, or refuses it naming the field.

Two payloads are accepted: ``{"data": {"names": [...], "ndarray": [[...], ...]}}`` (rows in ``names``
order) and ``{"jsonData": {record}}`` or ``{"jsonData": [records]}``. Checks run per column over Python
values collected once, and all numbers are range-checked together as one numpy matrix, so a 1,000-row
batch costs one pass per feature and a one-row request a handful of numpy calls. The first broken value
found is reported with its feature name and row index; the server answers it with the error's 4xx status.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from components.serving.feature_batch import FeatureBatch
from contracts.data_contract import Kind
from contracts.errors import BadRequestError
from contracts.serving_schema import CategoryPolicy, FeatureSpec, FieldPolicy, ServingSchema

DEFAULT_MAX_ROWS = 1000
_UNSUPPORTED = ("strData", "binData", "customData")
_NUMBER_TYPES = frozenset({int, float})
_ABSENT = object()  # a jsonData record without the field (as opposed to an explicit null)
_MAX_LISTED = 12
# Up to this many rows the numbers are checked one by one in Python: fewer calls than numpy needs.
_SCALAR_CHECK_ROWS = 4


class RequestValidator:
    """Validates requests against one serving schema; per-schema arrays are built once, here.

    Args:
        schema: The serving schema of the loaded model.
        max_rows: Largest accepted batch; larger batches get status 413.
    """

    def __init__(self, schema: ServingSchema, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.schema = schema
        self.max_rows = max_rows
        self._known = frozenset(schema.names)
        self._numeric = tuple(feature for feature in schema.features if feature.kind is not Kind.STRING)
        self._numeric_names = tuple(feature.name for feature in self._numeric)
        self._integral = tuple(feature.kind is Kind.INT for feature in self._numeric)
        self._string_names = tuple(feature.name for feature in schema.features if feature.kind is Kind.STRING)
        self._limits = _limits(self._numeric)
        # Per string feature, the categories it refuses to go beyond (None: any is accepted).
        self._closed = {
            feature.name: frozenset(feature.allowed_values)
            for feature in schema.features
            if feature.allowed_values is not None and feature.unknown_category is CategoryPolicy.REJECT
        }

    def parse(self, message: Any) -> FeatureBatch:
        """Validates a decoded request message (a proto message must be converted to a dict first).

        Returns:
            The validated rows.

        Raises:
            BadRequestError: naming the field (and row) at fault, with a reason code and a 4xx status.

        Example:
            >>> RequestValidator(schema).parse({"jsonData": {"carrier": "UA", ...}})  # doctest: +SKIP
        """
        if not isinstance(message, dict):
            raise BadRequestError(
                "the request must be a JSON object holding 'data' or 'jsonData'", reason="BAD_PAYLOAD"
            )
        for key in _UNSUPPORTED:
            if key in message:
                raise BadRequestError(
                    f"'{key}' is not accepted: send data.names + data.ndarray, or jsonData records",
                    reason="UNSUPPORTED_PAYLOAD",
                )
        has_data, has_json = "data" in message, "jsonData" in message
        if has_data == has_json:
            raise BadRequestError(
                "the request must hold exactly one of 'data' and 'jsonData'", reason="BAD_PAYLOAD"
            )
        if has_data:
            rows, columns = _columns_from_data(message["data"], self.max_rows)
        else:
            rows, columns = _columns_from_records(message["jsonData"], self.max_rows)
        return self._validate_columns(columns, rows)

    def _validate_columns(self, columns: dict[str, Sequence[Any]], rows: int) -> FeatureBatch:
        schema = self.schema
        if schema.unknown_fields is FieldPolicy.REJECT:
            unknown = [name for name in columns if name not in self._known]
            if unknown:
                raise BadRequestError(
                    f"unknown feature {_listed(unknown)}; the model reads {_listed(list(schema.names))}",
                    reason="UNKNOWN_FEATURE",
                )
        strings: list[list[str]] = []
        numeric_values: list[Sequence[Any]] = []
        for feature in schema.features:
            values = columns.get(feature.name)
            if values is None:
                if feature.required:
                    raise BadRequestError(f'"{feature.name}": missing feature', reason="MISSING_FEATURE")
                values = [None] * rows
            elif _ABSENT in values:  # a C-level scan; no JSON value equals the sentinel
                if feature.required:
                    row = next(i for i, value in enumerate(values) if value is _ABSENT)
                    raise BadRequestError(
                        f'"{feature.name}" row {row}: missing feature', reason="MISSING_FEATURE"
                    )
                values = [None if value is _ABSENT else value for value in values]
            if feature.kind is Kind.STRING:
                strings.append(_strings(feature, values, self._closed.get(feature.name)))
            else:
                numeric_values.append(_number_values(feature, values))
        numbers = (
            _numbers(self._numeric, self._limits, numeric_values)
            if self._numeric
            else np.empty((0, rows), dtype=np.float64)
        )
        return FeatureBatch(
            rows, self._numeric_names, numbers, self._integral, self._string_names, strings, schema.names
        )


def parse_request(message: Any, schema: ServingSchema, *, max_rows: int = DEFAULT_MAX_ROWS) -> FeatureBatch:
    """Validates one request; a server keeps a ``RequestValidator`` instead of calling this per request.

    Raises:
        BadRequestError: naming the field (and row) at fault, with a reason code and a 4xx status.
    """
    return RequestValidator(schema, max_rows=max_rows).parse(message)


def request_id(message: Any) -> str | None:
    """The caller's request id (Seldon ``meta.puid``) when it is a short non-empty string."""
    if isinstance(message, dict):
        meta = message.get("meta")
        if isinstance(meta, dict):
            puid = meta.get("puid")
            if isinstance(puid, str) and 0 < len(puid) <= 128:
                return puid
    return None


def _columns_from_data(data: Any, max_rows: int) -> tuple[int, dict[str, Sequence[Any]]]:
    if not isinstance(data, dict):
        raise BadRequestError("'data' must be an object with 'names' and 'ndarray'", reason="BAD_PAYLOAD")
    if "tensor" in data or "tftensor" in data:
        raise BadRequestError(
            "data.tensor carries numbers only and cannot hold categorical features: send data.ndarray",
            reason="UNSUPPORTED_PAYLOAD",
        )
    names = data.get("names")
    if not isinstance(names, list) or not names or not all(type(name) is str for name in names):
        raise BadRequestError("data.names must be a non-empty list of feature names", reason="BAD_NAMES")
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise BadRequestError(f"data.names repeats {_listed(repeated)}", reason="BAD_NAMES")
    rows = data.get("ndarray")
    if not isinstance(rows, list):
        raise BadRequestError("data.ndarray must be a list of rows", reason="BAD_SHAPE")
    _check_batch_size(len(rows), max_rows)
    width = len(names)
    for index, row in enumerate(rows):
        if type(row) is not list or len(row) != width:
            got = f"{len(row)} values" if type(row) is list else type(row).__name__
            raise BadRequestError(
                f"data.ndarray row {index}: expected a list of {width} values (one per name), got {got}",
                reason="BAD_SHAPE",
            )
    return len(rows), dict(zip(names, zip(*rows, strict=True), strict=True))


def _columns_from_records(records: Any, max_rows: int) -> tuple[int, dict[str, Sequence[Any]]]:
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise BadRequestError("jsonData must be a record object or a list of them", reason="BAD_PAYLOAD")
    _check_batch_size(len(records), max_rows)
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequestError(
                f"jsonData row {index}: expected an object, got {type(record).__name__}", reason="BAD_SHAPE"
            )
    names = dict.fromkeys(name for record in records for name in record)
    return len(records), {name: [record.get(name, _ABSENT) for record in records] for name in names}


def _check_batch_size(rows: int, max_rows: int) -> None:
    if rows == 0:
        raise BadRequestError("the batch is empty: send at least one row", reason="EMPTY_BATCH")
    if rows > max_rows:
        raise BadRequestError(
            f"the batch has {rows} rows; at most {max_rows} are accepted per request",
            status_code=413,
            reason="TOO_MANY_ROWS",
        )


def _number_values(feature: FeatureSpec, values: Sequence[Any]) -> Sequence[Any]:
    types = set(map(type, values))
    if types <= _NUMBER_TYPES:
        return values
    if feature.nullable and types <= _NUMBER_TYPES | {type(None)}:
        return [np.nan if value is None else value for value in values]
    row, value = next((i, v) for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES)
    if value is None:
        raise BadRequestError(f'"{feature.name}" row {row}: null is not allowed', reason="NULL_VALUE")
    raise BadRequestError(
        f'"{feature.name}" row {row}: expected a number, got {_describe(value)}', reason="WRONG_TYPE"
    )


@dataclass(frozen=True)
class _Limits:
    """Per-feature bounds as (features, 1) arrays, so one comparison checks every numeric column.

    ``low`` and ``high`` are finite even for an unbounded feature (the largest float64), so the one
    range comparison also catches NaN and infinities; ``minimum`` and ``maximum`` are the schema's.
    """

    minimum: np.ndarray
    maximum: np.ndarray
    low: np.ndarray
    high: np.ndarray
    nullable: np.ndarray
    integral: np.ndarray
    fractional_ok: np.ndarray
    any_integral: bool
    rules: tuple[tuple[float, float, bool, bool], ...]  # (low, high, nullable, integral) per feature


def _limits(features: tuple[FeatureSpec, ...]) -> _Limits:
    def column(values: list[Any], dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(-1, 1)

    largest = float(np.finfo(np.float64).max)
    integral = column([f.kind is Kind.INT for f in features], bool)
    return _Limits(
        minimum=column([-np.inf if f.minimum is None else f.minimum for f in features], np.float64),
        maximum=column([np.inf if f.maximum is None else f.maximum for f in features], np.float64),
        low=column([-largest if f.minimum is None else f.minimum for f in features], np.float64),
        high=column([largest if f.maximum is None else f.maximum for f in features], np.float64),
        nullable=column([f.nullable for f in features], bool),
        integral=integral,
        fractional_ok=~integral,
        any_integral=bool(integral.any()),
        rules=tuple(
            (
                -largest if f.minimum is None else float(f.minimum),
                largest if f.maximum is None else float(f.maximum),
                f.nullable,
                f.kind is Kind.INT,
            )
            for f in features
        ),
    )


def _numbers(features: tuple[FeatureSpec, ...], limits: _Limits, values: list[Sequence[Any]]) -> np.ndarray:
    # All numeric features of the batch as one (features, rows) matrix: a handful of numpy calls check
    # every value, where a call per column would cost more than the model for a one-row request. Only a
    # broken batch pays for working out which value broke which rule.
    try:
        matrix = np.array(values, dtype=np.float64)
    except OverflowError as exc:
        for feature, column in zip(features, values, strict=True):
            row = next((i for i, v in enumerate(column) if _overflows(v)), None)
            if row is not None:
                raise BadRequestError(
                    f'"{feature.name}" row {row}: the number is too large', reason="OUT_OF_RANGE"
                ) from exc
        raise
    # Both checks say the same (a test holds them to it); for a few rows the Python loop is the cheaper.
    fine = (
        _scalars_fine(limits, values)
        if matrix.shape[1] <= _SCALAR_CHECK_ROWS
        else _matrix_fine(limits, matrix)
    )
    if not fine:
        _raise_first_problem(features, limits, matrix, np.isnan(matrix))
    return matrix


def _matrix_fine(limits: _Limits, matrix: np.ndarray) -> bool:
    """Whether every value keeps its feature's rules, in a dozen numpy calls whatever the rows."""
    missing = np.isnan(matrix)
    fine = ((matrix >= limits.low) & (matrix <= limits.high)) | (missing & limits.nullable)
    if limits.any_integral:
        fine &= limits.fractional_ok | missing | (matrix == np.floor(matrix))
    return bool(fine.all())


def _scalars_fine(limits: _Limits, values: list[Sequence[Any]]) -> bool:
    """``_matrix_fine`` over the request's own numbers (already known to convert to float64)."""
    for (low, high, nullable, integral), column in zip(limits.rules, values, strict=True):
        for value in column:
            number = float(value)
            if number != number:  # NaN: a null
                if not nullable:
                    return False
            elif not low <= number <= high or (integral and number != math.floor(number)):
                return False
    return True


def _raise_first_problem(
    features: tuple[FeatureSpec, ...], limits: _Limits, matrix: np.ndarray, missing: np.ndarray
) -> None:
    problems = (
        ("NOT_FINITE", np.isinf(matrix) | (missing & ~limits.nullable)),
        ("OUT_OF_RANGE", matrix < limits.minimum),
        ("OUT_OF_RANGE", matrix > limits.maximum),
        ("NOT_INTEGER", limits.integral & ~missing & (matrix != np.floor(matrix))),
    )
    broken = problems[0][1] | problems[1][1] | problems[2][1] | problems[3][1]
    if broken.any():
        index = int(np.argmax(broken.any(axis=1)))
        feature = features[index]
        for (reason, mask), describe in zip(problems, _DESCRIPTIONS, strict=True):
            if mask[index].any():
                row = int(np.argmax(mask[index]))
                value = float(matrix[index, row])
                raise BadRequestError(
                    f'"{feature.name}" row {row}: {describe(value, feature)}', reason=reason
                )


_DESCRIPTIONS: tuple[Callable[[float, FeatureSpec], str], ...] = (
    lambda value, feature: f"{value} is not a finite number",
    lambda value, feature: f"{value:g} is below the minimum {feature.minimum:g}",
    lambda value, feature: f"{value:g} is above the maximum {feature.maximum:g}",
    lambda value, feature: f"expected an integer, got {value}",
)


def _strings(feature: FeatureSpec, values: Sequence[Any], closed: frozenset[str] | None) -> list[str]:
    types = set(map(type, values))
    nulls = False
    if types != {str}:
        if not (feature.nullable and types <= {str, type(None)}):
            row, value = next((i, v) for i, v in enumerate(values) if type(v) is not str)
            if value is None:
                raise BadRequestError(f'"{feature.name}" row {row}: null is not allowed', reason="NULL_VALUE")
            raise BadRequestError(
                f'"{feature.name}" row {row}: expected a string, got {_describe(value)}', reason="WRONG_TYPE"
            )
        nulls = True
    distinct = set(values)
    distinct.discard(None)
    too_long = [value for value in distinct if len(value) > feature.max_length]
    if too_long:
        row = values.index(too_long[0])
        raise BadRequestError(
            f'"{feature.name}" row {row}: longer than {feature.max_length} characters', reason="WRONG_TYPE"
        )
    if closed is not None:
        unknown = distinct.difference(closed)
        if unknown:
            row = min(values.index(value) for value in unknown)
            raise BadRequestError(
                f'"{feature.name}" row {row}: unknown category {values[row]!r}; '
                f"allowed: {_listed(list(feature.allowed_values or ()))}",
                reason="UNKNOWN_CATEGORY",
            )
    if nulls:
        # The model was trained with a missing category as the empty string (components/train/features.py).
        return ["" if value is None else value for value in values]
    return list(values)


def _overflows(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")
