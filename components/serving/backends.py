"""Which inference path serves a model folder, and loading it.

=========  ====================================================  ==========================
backend    runs                                                  module
=========  ====================================================  ==========================
tflite     ``model.tflite``, the TFLite core, with LiteRT        ``tflite_predictor.py``
session    ``saved_model/`` in a TF1 session, two packed feeds   ``inference.py``
function   ``saved_model/`` through a ``tf.function``            ``inference.py``
auto       ``tflite`` when ``model.json`` records a core whose file exists, else ``session``
=========  ====================================================  ==========================

TensorFlow is imported only when a SavedModel backend is loaded, and only the ``savedmodel`` extra installs it:
the serving set leaves it out, because Seldon's microservice imports TensorFlow into every worker whenever
it is installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from components.serving.backend_kinds import Backend
from components.serving.feature_batch import FeatureBatch
from contracts.core_contract import CoreContract
from contracts.errors import ModelContractError, ModelUnavailableError
from contracts.names import METADATA_FILE, SAVED_MODEL_DIR, SCHEMA_FILE


class LoadedModel(Protocol):
    """What every backend gives the model server."""

    input_dtypes: dict[str, str]
    output_name: str

    def predict(self, batch: FeatureBatch) -> np.ndarray: ...


def core_contract(metadata: Mapping[str, Any]) -> CoreContract | None:
    """The TFLite core recorded in a decoded ``model.json``, or None.

    Raises:
        ModelUnavailableError: when the record is malformed.
    """
    try:
        return CoreContract.from_metadata(metadata)
    except ModelContractError as exc:
        raise ModelUnavailableError(str(exc)) from exc


def resolve_backend(requested: Backend, model_dir: Path, contract: CoreContract | None) -> Backend:
    """The backend that will serve ``model_dir``: ``requested``, or for ``auto`` the fastest available.

    Raises:
        ModelUnavailableError: when ``tflite`` is requested for a folder without a TFLite core.
    """
    has_core = contract is not None and (model_dir / contract.file).is_file()
    if requested is Backend.AUTO:
        return Backend.TFLITE if has_core else Backend.SESSION
    if requested is Backend.TFLITE and not has_core:
        raise ModelUnavailableError(
            f"backend 'tflite' needs model.tflite and its 'tflite' record in model.json; {model_dir} has "
            f"{'no record' if contract is None else 'no ' + contract.file}"
        )
    return requested


def load_backend(
    backend: Backend, model_dir: Path, contract: CoreContract | None, *, threads: int
) -> LoadedModel:
    """Loads the model of ``model_dir`` for a resolved backend (not ``auto``).

    Raises:
        ModelUnavailableError: when the model cannot be loaded or breaks its contract.
    """
    if backend is Backend.TFLITE:
        from components.serving.tflite_predictor import TflitePredictor

        if contract is None:
            raise ModelUnavailableError(f"{model_dir}/model.json records no TFLite core")
        return TflitePredictor(model_dir, contract, threads=threads)
    if backend is Backend.AUTO:
        raise ModelUnavailableError("resolve the 'auto' backend before loading it")
    try:
        from components.serving.inference import load_predictor
    except ModuleNotFoundError as exc:
        if exc.name != "tensorflow":
            raise
        raise ModelUnavailableError(
            f"serving {model_dir} with backend '{backend}' needs TensorFlow, which the serving set leaves "
            "out (it runs the TFLite core training exports): install the 'savedmodel' extra beside "
            "'serving' (`make env` builds .venv-savedmodel), or serve a model folder whose model.json "
            "records a TFLite core"
        ) from exc
    return load_predictor(model_dir / SAVED_MODEL_DIR, backend=backend, threads=threads)


def served_files(model_dir: Path) -> list[Path]:
    """The files the model server loads from ``model_dir`` (``auto`` backend): what a size budget measures.

    Raises:
        ModelUnavailableError: when ``model.json`` is missing, unreadable or records a malformed core.
    """
    try:
        metadata = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{model_dir}: cannot read {METADATA_FILE}: {exc}") from exc
    contract = core_contract(metadata)
    described = [model_dir / METADATA_FILE, model_dir / SCHEMA_FILE]
    if resolve_backend(Backend.AUTO, model_dir, contract) is Backend.TFLITE:
        assert contract is not None, "the tflite backend resolves only with a recorded core"
        return [model_dir / contract.file, *described]
    weights = sorted(path for path in (model_dir / SAVED_MODEL_DIR).rglob("*") if path.is_file())
    return [*weights, *described]
