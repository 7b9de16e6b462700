"""The SavedModel backends through the model class and a started server, in the serving set with the
``savedmodel`` extra (TensorFlow) installed."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from components.processes import serve_model
from components.serving.backend_kinds import Backend
from components.serving.model import FlightDelayModel
from contracts.errors import ModelUnavailableError, ServerProcessError

from ..conftest import drop_feature_from_schema_and_inputs, keras_predictions, remove_core, varied_records

# This environment: the serving set plus TensorFlow.
SAVEDMODEL_VENV = Path(sys.prefix)


def test_a_folder_without_a_core_is_served_from_its_savedmodel(model_copy: Path) -> None:
    remove_core(model_copy)
    model = FlightDelayModel(model_uri=str(model_copy))
    assert model.backend is Backend.SESSION
    model.load()
    assert model.health_status()["status"] == "ok"
    assert model.init_metadata()["platform"] == "tensorflow"


def test_a_schema_that_does_not_match_the_savedmodel_stops_the_load(model_copy: Path) -> None:
    drop_feature_from_schema_and_inputs(model_copy, "precip")
    model = FlightDelayModel(model_uri=str(model_copy), backend="session")
    with pytest.raises(ModelUnavailableError, match=r"inputs and the serving schema differ on \['precip'\]"):
        model.load()
    shutil.rmtree(model_copy / "saved_model")
    with pytest.raises(ModelUnavailableError, match="no SavedModel"):
        model.load()


def test_a_started_server_answers_from_the_savedmodel_as_keras_does(model_dir: Path, tmp_path: Path) -> None:
    records = varied_records(20, seed=11)
    body = json.dumps({"jsonData": records}).encode()
    with serve_model(
        model_dir, grpc_workers=0, startup_timeout=120, backend="session", serving_venv=SAVEDMODEL_VENV
    ) as server:
        request = urllib.request.Request(
            server.http_url + "/api/v1.0/predictions", data=body, headers={"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    got = np.asarray(answer["data"]["ndarray"], dtype=np.float64)[:, 0]
    np.testing.assert_allclose(got, keras_predictions(model_dir, records, tmp_path), rtol=0, atol=1e-6)


def test_a_server_whose_savedmodel_is_broken_reports_the_cause(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / "saved_model" / "saved_model.pb").write_bytes(b"garbage")
    with pytest.raises(ServerProcessError) as caught:
        serve_model(
            model_copy,
            log_dir=tmp_path,
            grpc_workers=0,
            startup_timeout=120,
            backend="session",
            serving_venv=SAVEDMODEL_VENV,
        )
    first_line = str(caught.value).splitlines()[0]
    assert "exited with status" in first_line and "saved_model.pb is not a SavedModel" in first_line
