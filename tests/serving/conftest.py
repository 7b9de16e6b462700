"""Shared fixtures: a small seeded Keras model with the production signature and TFLite core
(``tests/doubles/fixture_model.py``), and a good request record.

The serving set has no TensorFlow, so the training environment builds the model folder and gives the Keras
model's own answers, as the training pipeline does for real models.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from doubles import TESTS_DIR

from contracts.serving_schema import ServingSchema

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEMA = PROJECT_ROOT / "contracts" / "serving_schema.example.json"
MODEL_VERSION = "test-7"
# The training environment's interpreter, which has Keras; `make env` creates it.
PIPELINE_PYTHON_VARIABLE = "MLOPS_PIPELINE_PYTHON"

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
    "carrier_arrivals_7d": 1120,
    "carrier_delay_rate_7d": 0.21,
    "route_arrivals_7d": 85,
    "route_delay_rate_7d": 0.18,
}


@pytest.fixture(scope="session")
def schema() -> ServingSchema:
    return ServingSchema.read(EXAMPLE_SCHEMA)


def _fixture_model(*args: str) -> None:
    python = Path(os.environ.get(PIPELINE_PYTHON_VARIABLE, PROJECT_ROOT / ".venv" / "bin" / "python"))
    if not python.exists():
        pytest.fail(
            f"the fixture model is built with the training environment's Keras, and {python} is absent: "
            f"run `make env` (or point {PIPELINE_PYTHON_VARIABLE} at an interpreter of the pipeline set)"
        )
    command = [str(python), "-m", "doubles.fixture_model", *args]
    environment = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}  # the double lives under tests/
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")


def build_fixture_folder(target: Path, *, version: str = MODEL_VERSION, tflite: bool = True) -> Path:
    """A stand-in model folder (``fixture_model.build_model_folder``) for the example serving schema."""
    _fixture_model("build", str(target), "--version", version, *([] if tflite else ["--no-tflite"]))
    return target


def keras_predictions(model_dir: Path, records: Sequence[dict[str, Any]], scratch: Path) -> np.ndarray:
    """The Keras model's answers for ``records``, through its SavedModel, from the training environment."""
    records_file, out = scratch / "records.json", scratch / "keras-predictions.json"
    records_file.write_text(json.dumps(list(records)), encoding="utf-8")
    _fixture_model("predict", str(model_dir), str(records_file), str(out))
    return np.asarray(json.loads(out.read_text(encoding="utf-8")), dtype=np.float64)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_folder(tmp_path_factory.mktemp("model"))


@pytest.fixture()
def model_copy(tmp_path: Path, model_dir: Path) -> Iterator[Path]:
    """A private copy of the model folder, for tests that break one of its files."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    yield copy


def remove_core(model_folder: Path) -> None:
    """Makes ``model_folder`` one trained before the TFLite core existed: no file, no record."""
    metadata = json.loads((model_folder / "model.json").read_text())
    del metadata["tflite"]
    (model_folder / "model.json").write_text(json.dumps(metadata))
    (model_folder / "model.tflite").unlink()


def drop_feature_from_schema_and_inputs(model_folder: Path, name: str) -> None:
    """Removes feature ``name`` from the serving schema and from the inputs ``model.json`` lists, so the
    two agree with each other but no longer with the model itself."""
    for file, key in (("serving_schema.json", "features"), ("model.json", "inputs")):
        document = json.loads((model_folder / file).read_text())
        document[key] = [item for item in document[key] if item["name"] != name]
        (model_folder / file).write_text(json.dumps(document))


def varied_records(count: int, seed: int) -> list[dict[str, Any]]:
    """Valid records around ``GOOD_RECORD``: other hours, distances, carriers, missing weather, and
    destinations out of the vocabulary (``XNA``, ``QQQ``)."""
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(count):
        record = dict(GOOD_RECORD)
        record["hour"] = int(rng.integers(0, 24))
        record["distance"] = int(rng.integers(17, 4983))
        record["temp"] = None if rng.random() < 0.2 else float(rng.uniform(-10, 100))
        record["wind_gust"] = None if rng.random() < 0.5 else float(rng.uniform(0, 60))
        record["carrier"] = str(rng.choice(["UA", "B6", "AA", "EV", "9E"]))
        record["dest"] = str(rng.choice(["ORD", "ATL", "XNA", "QQQ"]))
        records.append(record)
    return records
