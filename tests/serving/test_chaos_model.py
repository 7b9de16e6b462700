"""Fault injection (components/serving/chaos.py) as the served model honours it: only in chaos mode."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from seldon_core.flask_utils import SeldonMicroserviceException

from components.serving.chaos import CHAOS_VARIABLE, Fault, write_fault
from components.serving.model import FlightDelayModel
from contracts.errors import ModelUnavailableError

from .conftest import GOOD_RECORD


def _chaos_model(model_dir: Path, tmp_path: Path, fault: Fault) -> Path:
    folder = tmp_path / "chaos-model"
    shutil.copytree(model_dir, folder)
    write_fault(folder, fault)
    return folder


def _probability(model: FlightDelayModel) -> float:
    answer = model.predict_raw({"jsonData": GOOD_RECORD})
    return float(answer["data"]["ndarray"][0][0])


def test_a_fault_file_is_refused_outside_chaos_mode(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CHAOS_VARIABLE, raising=False)
    folder = _chaos_model(model_dir, tmp_path, Fault(shift=0.3))
    with pytest.raises(ModelUnavailableError, match="chaos mode"):
        FlightDelayModel(str(folder), model_version="v9")


def test_faults_are_injected_in_chaos_mode(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHAOS_VARIABLE, "1")
    normal = FlightDelayModel(str(model_dir), model_version="v1")
    normal.load()
    shifted = FlightDelayModel(
        str(_chaos_model(model_dir, tmp_path / "s", Fault(shift=0.3))), model_version="v2"
    )
    shifted.load()
    assert _probability(shifted) == pytest.approx(min(_probability(normal) + 0.3, 1.0), abs=1e-6)

    failing = FlightDelayModel(
        str(_chaos_model(model_dir, tmp_path / "e", Fault(error_rate=1.0))), model_version="v3"
    )
    failing.load()
    with pytest.raises(SeldonMicroserviceException) as error:
        failing.predict_raw({"jsonData": GOOD_RECORD})
    assert (error.value.status_code, error.value.reason) == (500, "INJECTED_FAULT")

    slow = FlightDelayModel(
        str(_chaos_model(model_dir, tmp_path / "d", Fault(delay_ms=120))), model_version="v4"
    )
    slow.load()
    started = time.perf_counter()
    _probability(slow)
    assert time.perf_counter() - started >= 0.12


@pytest.mark.parametrize("values", [{"error_rate": 2.0}, {"delay_ms": -1.0}, {"shift": 1.5}])
def test_out_of_range_faults_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(ModelUnavailableError, match=r"chaos\.json"):
        Fault(**values)
