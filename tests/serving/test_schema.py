"""The serving schema: the example file, its reader, and the documentation kept in step with both."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts import serving_schema as schema_module
from contracts.data_contract import BY_NAME, FEATURE_NAMES
from contracts.errors import ModelUnavailableError
from contracts.serving_schema import ServingSchema

from .conftest import EXAMPLE_SCHEMA, PROJECT_ROOT

SCHEMA_DOC = PROJECT_ROOT / "contracts" / "serving_schema.md"
VALIDATION_SOURCE = PROJECT_ROOT / "components" / "serving" / "validation.py"


def test_example_covers_the_contract_features_with_their_kinds_and_nullability(schema: ServingSchema) -> None:
    assert sorted(schema.names) == sorted(FEATURE_NAMES)
    for feature in schema.features:
        assert feature.kind is BY_NAME[feature.name].kind, feature.name
        assert feature.nullable is BY_NAME[feature.name].nullable, feature.name


def test_round_trip_through_json(schema: ServingSchema, tmp_path: Path) -> None:
    written = schema.write(tmp_path / "serving_schema.json")
    assert ServingSchema.read(written) == schema
    assert json.loads(EXAMPLE_SCHEMA.read_text()) == schema.to_dict()


def _example() -> dict[str, Any]:
    return json.loads(EXAMPLE_SCHEMA.read_text())


def _feature(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in document["features"] if item["name"] == name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=2), "format_version 2"),
        (lambda d: d.update(extra=1), "unknown keys ['extra']"),
        (lambda d: d.update(unknown_fields="drop"), "unknown_fields"),
        (lambda d: d.update(features=[]), "no features"),
        (lambda d: d["features"].append(dict(d["features"][0])), "duplicate features ['day']"),
        (lambda d: _feature(d, "day").update(kind="integer"), "kind must be one of"),
        (lambda d: _feature(d, "day").update(nulable=True), "unknown keys ['nulable']"),
        (lambda d: _feature(d, "day").update(required=False), "optional feature must be nullable"),
        (lambda d: _feature(d, "day").update(required="yes"), "required must be true or false"),
        (lambda d: _feature(d, "day").update(min=40), "min 40.0 is above max 31.0"),
        (lambda d: _feature(d, "day").update(max="31"), "max must be a finite number"),
        (lambda d: _feature(d, "day").update(allowed_values=["1"]), "allowed_values applies to strings"),
        (lambda d: _feature(d, "carrier").update(min=0), "min applies to numbers only"),
        (lambda d: _feature(d, "carrier").update(allowed_values=[]), "non-empty list of strings"),
        (lambda d: _feature(d, "carrier").update(allowed_values=["UA", "UA"]), "duplicates"),
        (lambda d: _feature(d, "carrier").pop("allowed_values"), "'reject' needs allowed_values"),
        (lambda d: _feature(d, "carrier").update(unknown_category="warn"), "unknown_category must be"),
        (lambda d: _feature(d, "carrier").update(max_length=0), "max_length must be a positive integer"),
    ],
)
def test_malformed_schemas_are_refused_with_the_reason(change: Any, message: str) -> None:
    document = _example()
    change(document)
    with pytest.raises(ModelUnavailableError, match=re.escape(message)):
        ServingSchema.from_dict(document)


def test_unreadable_file_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "serving_schema.json").write_text("{not json")
    with pytest.raises(ModelUnavailableError, match="cannot read serving schema"):
        ServingSchema.read(tmp_path / "serving_schema.json")
    with pytest.raises(ModelUnavailableError, match="cannot read serving schema"):
        ServingSchema.read(tmp_path / "absent.json")


def test_documentation_names_every_key_and_reason_the_code_knows() -> None:
    doc = SCHEMA_DOC.read_text()
    documented_keys = set(re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|", doc, re.MULTILINE))
    keys = {key for pair in documented_keys for key in pair if key}
    assert keys == schema_module._FEATURE_KEYS | schema_module._SCHEMA_KEYS
    documented_reasons = set(re.findall(r"^\| `([A-Z_]+)` \| 4\d\d \|", doc, re.MULTILINE))
    coded_reasons = set(re.findall(r'"([A-Z]+(?:_[A-Z]+)+)"', VALIDATION_SOURCE.read_text()))
    assert documented_reasons == coded_reasons
