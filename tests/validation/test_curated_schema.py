"""The curated schema keeps its hand edits, and a draft can be re-inferred from any batch."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from components.schema.logic import (
    SERVING,
    TRAINING,
    Schema,
    infer_draft_schema,
    load_schema,
    write_schema,
)
from contracts.data_contract import BY_NAME, COLUMN_NAMES, LABEL, ORIGINS, Kind
from contracts.errors import ValidationError

CARRIERS = {"9E", "AA", "AS", "B6", "DL", "EV", "F9", "FL", "HA", "MQ", "OO", "UA", "US", "VX", "WN", "YV"}
_TYPES = {Kind.INT: schema_pb2.INT, Kind.FLOAT: schema_pb2.FLOAT, Kind.STRING: schema_pb2.BYTES}


def _feature(schema: Schema, name: str) -> schema_pb2.Feature:
    return next(f for f in schema.feature if f.name == name)


def _domain(schema: Schema, name: str) -> set[str]:
    return set(next(d for d in schema.string_domain if d.name == name).value)


def test_schema_follows_the_data_contract(schema: Schema) -> None:
    assert [f.name for f in schema.feature] == list(COLUMN_NAMES)
    for feature in schema.feature:
        assert feature.type == _TYPES[BY_NAME[feature.name].kind], feature.name


def test_categorical_domains_are_the_real_codes(schema: Schema) -> None:
    assert _feature(schema, "carrier").domain == "carrier"
    assert _domain(schema, "carrier") == CARRIERS
    assert _domain(schema, "origin") == set(ORIGINS)
    # New destinations are normal business (July brings ANC, unseen in January-June): free string.
    assert not _feature(schema, "dest").HasField("domain")


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("distance", 1, 5000), ("hour", 0, 23), ("minute", 0, 59), ("month", 1, 12), ("day", 1, 31)],
)
def test_integer_ranges(schema: Schema, name: str, low: int, high: int) -> None:
    domain = _feature(schema, name).int_domain
    assert (domain.min, domain.max) == (low, high)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("humid", 0, 100), ("wind_dir", 0, 360), ("temp", -40, 120), ("plane_year", 1930, 2030)],
)
def test_float_ranges(schema: Schema, name: str, low: float, high: float) -> None:
    domain = _feature(schema, name).float_domain
    assert (domain.min, domain.max) == (low, high)


@pytest.mark.parametrize("name", ["visib", "precip"])
def test_non_negative_measurements(schema: Schema, name: str) -> None:
    assert _feature(schema, name).float_domain.min == 0


def test_presence_is_strict_for_required_columns_and_measured_for_the_rest(schema: Schema) -> None:
    for feature in schema.feature:
        column = BY_NAME[feature.name]
        assert feature.presence.min_count == 1
        if column.nullable:
            assert 0.0 < feature.presence.min_fraction < 1.0, feature.name
        else:
            assert feature.presence.min_fraction == 1.0, feature.name


def test_label_is_absent_only_at_serving(schema: Schema) -> None:
    assert list(schema.default_environment) == [TRAINING, SERVING]
    for feature in schema.feature:
        expected = [SERVING] if feature.name == LABEL else []
        assert list(feature.not_in_environment) == expected, feature.name


def test_schema_carries_no_comparator_thresholds_live_in_toml(schema: Schema) -> None:
    for feature in schema.feature:
        assert not feature.HasField("drift_comparator") and not feature.HasField("skew_comparator")


def test_draft_inferred_from_a_batch_has_environments_and_round_trips(
    tmp_path: Path, july: pd.DataFrame
) -> None:
    draft = infer_draft_schema(july)

    path = write_schema(draft, tmp_path / "draft" / "schema.pbtxt")

    assert load_schema(path) == draft
    assert [f.name for f in draft.feature] == list(COLUMN_NAMES)
    assert list(_feature(draft, LABEL).not_in_environment) == [SERVING]
    # The naive part that curation replaces: every destination seen becomes the whole domain.
    assert _domain(draft, "dest") == set(july["dest"])


def test_unreadable_schema_is_a_project_error(tmp_path: Path) -> None:
    path = tmp_path / "schema.pbtxt"
    path.write_text("feature { name: ")

    with pytest.raises(ValidationError, match="not a readable schema"):
        load_schema(path)
    with pytest.raises(ValidationError, match="not a readable schema"):
        load_schema(tmp_path / "absent.pbtxt")
