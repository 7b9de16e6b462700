"""Validated batches: packed matrices in any requested order, derived columns, joining in order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from components.serving.batching import coalescing
from components.serving.feature_batch import FeatureBatch
from components.serving.validation import parse_request
from contracts.serving_schema import ServingSchema

from .conftest import GOOD_RECORD, varied_records


def _batch() -> FeatureBatch:
    return FeatureBatch(
        3,
        numeric_names=("day", "temp", "distance"),
        numbers=np.array([[1.0, 2.0, 3.0], [np.nan, 3.5, 4.0], [10.0, 20.0, 30.0]]),
        integral=(True, False, True),
        string_names=("carrier", "dest"),
        strings=(["UA", "", "AA"], ["ORD", "XNA", "ATL"]),
        names=("carrier", "day", "temp", "dest", "distance"),
    )


def test_number_matrix_follows_the_requested_order() -> None:
    batch = _batch()
    matrix = batch.number_matrix(("distance", "day"))
    assert matrix.dtype == np.float32 and matrix.flags.c_contiguous
    np.testing.assert_array_equal(matrix, [[10.0, 1.0], [20.0, 2.0], [30.0, 3.0]])
    same = batch.number_matrix(("day", "temp", "distance"), np.float64)
    assert same.shape == (3, 3) and math.isnan(same[0, 1])
    with pytest.raises(KeyError):
        batch.number_matrix(("day", "carrier"))


def test_string_columns_follow_the_requested_order() -> None:
    batch = _batch()
    assert batch.string_columns(("dest", "carrier")) == [["ORD", "XNA", "ATL"], ["UA", "", "AA"]]
    assert batch.string_columns(("carrier", "dest")) == [["UA", "", "AA"], ["ORD", "XNA", "ATL"]]


def test_columns_are_typed_and_in_schema_order() -> None:
    batch = _batch()
    assert list(batch.columns) == ["carrier", "day", "temp", "dest", "distance"]
    assert batch.columns["day"].dtype == np.int64 and batch.columns["day"].tolist() == [1, 2, 3]
    assert batch.columns["temp"].dtype == np.float64 and math.isnan(batch.columns["temp"][0])
    assert batch.columns["carrier"].dtype == object and batch.columns["carrier"].tolist() == ["UA", "", "AA"]
    assert batch.with_missing == frozenset({"temp"})


def test_batches_join_in_order(schema: ServingSchema) -> None:
    records = varied_records(7, seed=2)
    parts = [parse_request({"jsonData": records[a:b]}, schema) for a, b in ((0, 1), (1, 4), (4, 7))]
    joined = FeatureBatch.concatenate(parts)
    whole = parse_request({"jsonData": records}, schema)
    assert joined.rows == 7 and joined.names == whole.names
    for name in schema.names:
        np.testing.assert_array_equal(joined.columns[name], whole.columns[name])


def test_coalescing_over_batches_answers_each_request_its_own_rows(schema: ServingSchema) -> None:
    class RowIndex:
        def predict(self, batch: FeatureBatch) -> np.ndarray:
            return batch.number_matrix(("hour",), np.float64)[:, 0]

    predictor = coalescing(RowIndex())
    request = parse_request({"jsonData": [dict(GOOD_RECORD, hour=5), dict(GOOD_RECORD, hour=6)]}, schema)
    np.testing.assert_array_equal(predictor.predict(request), [5.0, 6.0])


def test_plain_columns_are_the_columns_as_lists_with_none_for_nan() -> None:
    batch = _batch()
    plain = batch.plain_columns()
    assert list(plain) == list(batch.names)
    assert plain == {
        "carrier": ["UA", "", "AA"],
        "day": [1, 2, 3],
        "temp": [None, 3.5, 4.0],
        "dest": ["ORD", "XNA", "ATL"],
        "distance": [10, 20, 30],
    }
    assert all(type(value) is int for value in plain["day"])  # integral, no gap: ints as before
    gap = FeatureBatch(2, ("day",), np.array([[np.nan, 2.0]]), (True,), (), ())
    assert gap.plain_columns() == {"day": [None, 2.0]}  # integral with a gap stays float, as columns
