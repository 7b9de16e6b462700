"""Request validation: accepted layouts become typed columns; every broken request names its field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from components.serving import validation
from components.serving.validation import parse_request, request_id
from contracts.data_contract import Kind
from contracts.errors import BadRequestError
from contracts.serving_schema import FeatureSpec, FieldPolicy, ServingSchema

from .conftest import GOOD_RECORD


def _ndarray(records: list[dict[str, Any]], names: list[str] | None = None) -> dict[str, Any]:
    names = names or list(records[0])
    return {"data": {"names": names, "ndarray": [[record[name] for name in names] for record in records]}}


def test_ndarray_rows_become_typed_columns_in_any_name_order(schema: ServingSchema) -> None:
    second = dict(GOOD_RECORD, day=15, carrier="B6", temp=None, plane_engine=None)
    batch = parse_request(_ndarray([GOOD_RECORD, second], sorted(GOOD_RECORD)), schema)
    assert batch.rows == 2
    assert batch.columns["day"].dtype == np.int64 and batch.columns["day"].tolist() == [14, 15]
    assert batch.columns["carrier"].tolist() == ["UA", "B6"]
    assert batch.columns["temp"][0] == 55.4 and math.isnan(batch.columns["temp"][1])
    assert batch.columns["plane_engine"].tolist() == ["Turbo-fan", ""]
    assert set(batch.columns) == set(schema.names)
    assert all(column.shape == (2,) for column in batch.columns.values())


def test_json_records_match_the_ndarray_layout(schema: ServingSchema) -> None:
    single = parse_request({"jsonData": GOOD_RECORD}, schema)
    listed = parse_request({"jsonData": [GOOD_RECORD, GOOD_RECORD]}, schema)
    rows = parse_request(_ndarray([GOOD_RECORD]), schema)
    for name in schema.names:
        np.testing.assert_array_equal(single.columns[name], rows.columns[name])
        np.testing.assert_array_equal(listed.columns[name][1:], rows.columns[name])


def test_lenient_forms_that_carry_the_same_meaning(schema: ServingSchema) -> None:
    record = dict(GOOD_RECORD, day=14.0, humid=float("nan"), dest="XNA")  # int as double, NaN as null
    del record["wind_gust"]  # optional: absent means null
    batch = parse_request({"jsonData": record}, schema)
    assert batch.columns["day"].tolist() == [14]
    assert math.isnan(batch.columns["humid"][0]) and math.isnan(batch.columns["wind_gust"][0])
    assert batch.columns["dest"].tolist() == ["XNA"]  # dest's policy is `allow`


def test_unknown_fields_are_dropped_when_the_schema_says_ignore(schema: ServingSchema) -> None:
    lenient = ServingSchema(schema.features, FieldPolicy.IGNORE)
    batch = parse_request({"jsonData": dict(GOOD_RECORD, tailnum="N14228")}, lenient)
    assert "tailnum" not in batch.columns
    with pytest.raises(BadRequestError, match="unknown feature 'tailnum'"):
        parse_request({"jsonData": dict(GOOD_RECORD, tailnum="N14228")}, schema)


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in GOOD_RECORD.items() if key != name}


BAD_REQUESTS = [
    ("not an object", [GOOD_RECORD], "BAD_PAYLOAD", "JSON object"),
    ("both layouts", {"jsonData": GOOD_RECORD, "data": {}}, "BAD_PAYLOAD", "exactly one"),
    ("neither layout", {"meta": {}}, "BAD_PAYLOAD", "exactly one"),
    ("data not an object", {"data": [1]}, "BAD_PAYLOAD", "'data' must be"),
    ("jsonData a string", {"jsonData": "x"}, "BAD_PAYLOAD", "jsonData must be"),
    ("strData", {"strData": "x"}, "UNSUPPORTED_PAYLOAD", "'strData'"),
    (
        "tensor",
        {"data": {"names": ["day"], "tensor": {"shape": [1, 1], "values": [1]}}},
        "UNSUPPORTED_PAYLOAD",
        "tensor",
    ),
    ("names missing", {"data": {"ndarray": [[1]]}}, "BAD_NAMES", "data.names"),
    ("names repeated", {"data": {"names": ["day", "day"], "ndarray": [[1, 1]]}}, "BAD_NAMES", "'day'"),
    ("ndarray not a list", {"data": {"names": ["day"], "ndarray": 5}}, "BAD_SHAPE", "data.ndarray"),
    ("row too short", {"data": {"names": ["day", "hour"], "ndarray": [[1, 2], [1]]}}, "BAD_SHAPE", "row 1"),
    ("row not a list", {"data": {"names": ["day"], "ndarray": [7]}}, "BAD_SHAPE", "row 0"),
    ("record not an object", {"jsonData": [GOOD_RECORD, 3]}, "BAD_SHAPE", "jsonData row 1"),
    ("empty ndarray", {"data": {"names": ["day"], "ndarray": []}}, "EMPTY_BATCH", "empty"),
    ("empty records", {"jsonData": []}, "EMPTY_BATCH", "empty"),
    ("missing feature", {"jsonData": _without("carrier")}, "MISSING_FEATURE", '"carrier"'),
    (
        "missing in one record",
        {"jsonData": [GOOD_RECORD, _without("hour")]},
        "MISSING_FEATURE",
        '"hour" row 1',
    ),
    ("unknown feature", {"jsonData": dict(GOOD_RECORD, tailnum="N1")}, "UNKNOWN_FEATURE", "'tailnum'"),
    ("null not nullable", {"jsonData": dict(GOOD_RECORD, distance=None)}, "NULL_VALUE", '"distance" row 0'),
    ("null category", {"jsonData": dict(GOOD_RECORD, origin=None)}, "NULL_VALUE", '"origin"'),
    (
        "string for number",
        {"jsonData": dict(GOOD_RECORD, hour="17")},
        "WRONG_TYPE",
        '"hour" row 0: expected a number, got a string',
    ),
    (
        "bool for number",
        {"jsonData": dict(GOOD_RECORD, temp=True)},
        "WRONG_TYPE",
        '"temp" row 0: expected a number, got a boolean',
    ),
    ("list for number", {"jsonData": dict(GOOD_RECORD, visib=[1])}, "WRONG_TYPE", '"visib"'),
    (
        "number for string",
        {"jsonData": dict(GOOD_RECORD, carrier=7)},
        "WRONG_TYPE",
        '"carrier" row 0: expected a string',
    ),
    (
        "string too long",
        {"jsonData": dict(GOOD_RECORD, dest="X" * 9)},
        "WRONG_TYPE",
        '"dest" row 0: longer than 8',
    ),
    ("NaN not nullable", {"jsonData": dict(GOOD_RECORD, minute=float("nan"))}, "NOT_FINITE", '"minute"'),
    (
        "infinity nullable",
        {"jsonData": dict(GOOD_RECORD, temp=float("inf"))},
        "NOT_FINITE",
        '"temp" row 0: inf',
    ),
    ("fraction for int", {"jsonData": dict(GOOD_RECORD, day=14.5)}, "NOT_INTEGER", '"day" row 0'),
    (
        "below min",
        {"jsonData": dict(GOOD_RECORD, hour=-1)},
        "OUT_OF_RANGE",
        '"hour" row 0: -1 is below the minimum 0',
    ),
    (
        "above max",
        {"jsonData": dict(GOOD_RECORD, humid=100.5)},
        "OUT_OF_RANGE",
        '"humid" row 0: 100.5 is above',
    ),
    (
        "huge int",
        {"jsonData": dict(GOOD_RECORD, distance=10**400)},
        "OUT_OF_RANGE",
        '"distance" row 0: the number is too large',
    ),
    (
        "unknown category",
        {"jsonData": dict(GOOD_RECORD, carrier="ZZ")},
        "UNKNOWN_CATEGORY",
        "\"carrier\" row 0: unknown category 'ZZ'",
    ),
    (
        "unknown nullable category",
        {"jsonData": dict(GOOD_RECORD, plane_engine="Jet")},
        "UNKNOWN_CATEGORY",
        '"plane_engine"',
    ),
]


@pytest.mark.parametrize(
    ("case", "message", "reason", "fragment"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
def test_each_broken_request_is_refused_naming_its_field(
    schema: ServingSchema, case: str, message: Any, reason: str, fragment: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_request(message, schema)
    assert caught.value.reason == reason
    assert caught.value.status_code == 400
    assert fragment in caught.value.message


def test_a_broken_row_deep_in_a_batch_is_named_by_index(schema: ServingSchema) -> None:
    records = [GOOD_RECORD] * 500 + [dict(GOOD_RECORD, origin="BOS")] + [GOOD_RECORD] * 10
    with pytest.raises(BadRequestError, match="\"origin\" row 500: unknown category 'BOS'"):
        parse_request(_ndarray(records), schema)


def test_batches_above_the_limit_get_413(schema: ServingSchema) -> None:
    parse_request({"jsonData": [GOOD_RECORD] * 5}, schema, max_rows=5)
    with pytest.raises(BadRequestError) as caught:
        parse_request({"jsonData": [GOOD_RECORD] * 6}, schema, max_rows=5)
    assert (caught.value.status_code, caught.value.reason) == (413, "TOO_MANY_ROWS")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"meta": {"puid": "abc-1"}}, "abc-1"),
        ({"meta": {"puid": ""}}, None),
        ({"meta": {"puid": "x" * 129}}, None),
        ({"meta": {"puid": 5}}, None),
        ({"meta": "puid"}, None),
        ([1], None),
    ],
)
def test_request_id_comes_from_meta_puid_when_sane(message: Any, expected: str | None) -> None:
    assert request_id(message) == expected


def test_the_per_value_and_the_matrix_range_checks_always_agree() -> None:
    # Small batches are checked value by value in Python, larger ones as one numpy matrix: the two must
    # accept exactly the same numbers, or a request's fate would depend on its size.
    rng = np.random.default_rng(17)
    tricky = [0.0, -0.0, 0.5, 1.0, -1.0, 2359.0, 2359.5, 2360.0, 1e308, -1e308, 1.7976931348623157e308]
    tricky += [float("nan"), float("inf"), float("-inf"), 5e-324, 2**53 + 1.0, -2.5, 12, 0]
    for trial in range(400):
        features = []
        for index in range(int(rng.integers(1, 6))):
            low = None if rng.random() < 0.3 else float(rng.choice([0.0, -10.0, 1.0, -1e308]))
            high = None if rng.random() < 0.3 else float(rng.choice([2359.0, 10.0, 1e308, 0.5]))
            if low is not None and high is not None and low > high:
                low, high = high, low
            features.append(
                FeatureSpec(
                    name=f"f{index}",
                    kind=Kind.INT if rng.random() < 0.5 else Kind.FLOAT,
                    required=True,
                    nullable=bool(rng.random() < 0.5),
                    minimum=low,
                    maximum=high,
                )
            )
        limits = validation._limits(tuple(features))
        rows = int(rng.integers(1, 4))
        values = [[tricky[int(rng.integers(len(tricky)))] for _ in range(rows)] for _ in features]
        matrix = np.array(values, dtype=np.float64)
        assert validation._scalars_fine(limits, values) == validation._matrix_fine(limits, matrix), (
            trial,
            features,
            values,
        )
