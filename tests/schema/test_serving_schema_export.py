"""serving_schema.json is derived from the curated schema and reads back through the server's reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.schema.logic import load_schema
from components.schema.serving import serving_schema_from, write_serving_schema
from contracts.data_contract import BY_NAME, FEATURE_NAMES
from contracts.errors import ValidationError
from contracts.serving_schema import CategoryPolicy, ServingSchema


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> ServingSchema:
    path = write_serving_schema(load_schema(), FEATURE_NAMES, tmp_path_factory.mktemp("model"))
    return ServingSchema.read(path)


def test_every_model_input_with_its_contract_kind(exported: ServingSchema) -> None:
    assert exported.names == FEATURE_NAMES
    for name in FEATURE_NAMES:
        assert str(exported.feature(name).kind) == BY_NAME[name].kind.value, name


def test_curated_domains_reject_unknown_categories(exported: ServingSchema) -> None:
    origin = exported.feature("origin")
    assert origin.allowed_values == ("EWR", "JFK", "LGA")
    assert origin.unknown_category is CategoryPolicy.REJECT
    assert "UA" in (exported.feature("carrier").allowed_values or ())


def test_free_string_passes_new_values_to_the_model(exported: ServingSchema) -> None:
    dest = exported.feature("dest")
    assert dest.allowed_values is None
    assert dest.unknown_category is CategoryPolicy.ALLOW


def test_bounds_and_nullability_follow_the_schema(exported: ServingSchema) -> None:
    hour = exported.feature("hour")
    assert (hour.minimum, hour.maximum, hour.nullable, hour.required) == (0, 23, False, True)
    temp = exported.feature("temp")
    assert temp.nullable and not temp.required
    assert exported.feature("distance").minimum == 1


def test_label_is_not_a_serving_feature() -> None:
    with pytest.raises(ValidationError, match="delayed"):
        serving_schema_from(load_schema(), [*FEATURE_NAMES, "delayed"])


def test_written_file_is_json_beside_the_model(tmp_path: Path) -> None:
    path = write_serving_schema(load_schema(), FEATURE_NAMES, tmp_path)
    assert path.name == "serving_schema.json"
    assert path.read_text().startswith("{")
