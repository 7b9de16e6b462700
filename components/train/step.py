"""What the train step does, independent of KFP: train on a batch artifact and write a servable model."""

from __future__ import annotations

from pathlib import Path

from components.ingest.step import load_batch
from components.schema.logic import SCHEMA_PATH, load_schema
from components.schema.serving import write_serving_schema
from components.train.artifact import export_model
from components.train.hyperparameters import HyperParameters
from components.train.logic import train_model
from components.train.metadata import ModelMetadata
from contracts.data_contract import FEATURE_NAMES


def train_step(
    batch_dir: Path, model_dir: Path, hyperparameters: HyperParameters, *, schema_path: Path = SCHEMA_PATH
) -> ModelMetadata:
    """Trains on a batch artifact and writes the model folder, serving contract included.

    The folder holds ``saved_model/``, ``model.keras``, ``model.json`` and ``serving_schema.json``:
    everything the model server needs, so serving cannot drift from what was trained.

    Raises:
        TrainingError: when training fails a guard (non-convergence, NaN/Inf).
        DataContractError: when the batch lacks a column the model needs.
    """
    trained = train_model(load_batch(batch_dir), hyperparameters)
    export_model(trained, model_dir)
    write_serving_schema(load_schema(schema_path), FEATURE_NAMES, model_dir)
    return trained.metadata
