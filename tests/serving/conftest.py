"""Shared fixtures: a small seeded Keras model with the production signature, exported with ``model.export``
(``components/serving/fixture_model.py``), and a good request record."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from components.serving.fixture_model import build_model_folder
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
    "carrier_arrivals_7d": 1120,
    "carrier_delay_rate_7d": 0.21,
    "route_arrivals_7d": 85,
    "route_delay_rate_7d": 0.18,
}


@pytest.fixture(scope="session")
def schema() -> ServingSchema:
    return ServingSchema.read(EXAMPLE_SCHEMA)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, schema: ServingSchema) -> Path:
    return build_model_folder(tmp_path_factory.mktemp("model"), schema, version=MODEL_VERSION)


@pytest.fixture()
def model_copy(tmp_path: Path, model_dir: Path) -> Iterator[Path]:
    """A private copy of the model folder, for tests that break one of its files."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    yield copy


def varied_records(count: int, seed: int) -> list[dict[str, Any]]:
    """Valid records around ``GOOD_RECORD``: other hours, distances, carriers, missing weather, and
    destinations out of the vocabulary (``XNA``, ``QQQ``)."""
    import numpy as np

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
