"""Shared fixtures: a tiny Keras model with the production signature, exported with ``model.export``.

The model follows the artifact contract (one (None, 1) input per raw feature, float32 or string, one
(None, 1) probability) and imputes NaN itself, like the trained model; its weights are seeded so the
probabilities are reproducible within a run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from components.ingest.contract import Kind
from components.serving.schema import ServingSchema

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEMA = PROJECT_ROOT / "components" / "serving" / "serving_schema.example.json"
MODEL_VERSION = "test-7"

GOOD_RECORD: dict[str, Any] = {
    "day": 14,
    "hour": 17,
    "minute": 45,
    "sched_dep_time": 1745,
    "sched_arr_time": 2010,
    "carrier": "UA",
    "origin": "EWR",
    "dest": "ORD",
    "distance": 719,
    "temp": 55.4,
    "dewp": 41.0,
    "humid": 58.2,
    "wind_dir": 270.0,
    "wind_speed": 12.7,
    "wind_gust": None,
    "precip": 0.0,
    "pressure": 1012.3,
    "visib": 10.0,
    "plane_year": 2004.0,
    "plane_seats": 178.0,
    "plane_engines": 2.0,
    "plane_engine": "Turbo-fan",
}


def build_model_folder(target: Path, schema: ServingSchema, *, version: str | None = MODEL_VERSION) -> Path:
    """Writes ``saved_model/``, ``model.json`` and ``serving_schema.json`` for a small seeded model."""
    import keras

    keras.utils.set_random_seed(7)
    inputs, parts = {}, []
    for feature in schema.features:
        if feature.kind is Kind.STRING:
            tensor = keras.Input(shape=(1,), name=feature.name, dtype="string")
            lookup = keras.layers.StringLookup(
                vocabulary=list(feature.allowed_values or ["?"]), output_mode="one_hot"
            )
            parts.append(lookup(tensor))
        else:
            tensor = keras.Input(shape=(1,), name=feature.name, dtype="float32")
            missing = keras.ops.isnan(tensor)
            scale = max(abs(feature.minimum or 0.0), abs(feature.maximum or 0.0), 1.0)
            parts.append(keras.ops.where(missing, 0.0, tensor) / scale)
            parts.append(keras.ops.cast(missing, "float32"))
        inputs[feature.name] = tensor
    hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Concatenate()(parts))
    output = keras.layers.Dense(1, activation="sigmoid", name="delay_probability")(hidden)
    keras.Model(inputs, output).export(str(target / "saved_model"), verbose=False)
    metadata: dict[str, Any] = {
        "format_version": 1,
        "inputs": [{"name": f.name, "kind": str(f.kind)} for f in schema.features],
    }
    if version is not None:
        metadata["version"] = version
    (target / "model.json").write_text(json.dumps(metadata), encoding="utf-8")
    schema.write(target / "serving_schema.json")
    return target


@pytest.fixture(scope="session")
def schema() -> ServingSchema:
    return ServingSchema.read(EXAMPLE_SCHEMA)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, schema: ServingSchema) -> Path:
    return build_model_folder(tmp_path_factory.mktemp("model"), schema)


@pytest.fixture()
def model_copy(tmp_path: Path, model_dir: Path) -> Iterator[Path]:
    """A private copy of the model folder, for tests that break one of its files."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    yield copy
