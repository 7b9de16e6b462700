"""The model artifact folder: ``model.tflite`` and ``saved_model/`` for serving, ``model.keras``, ``model.json``.

Layout (``artifact_dir``)::

    model.tflite   the TFLite core: the same trained layers, numbers and vocabulary ids in, the
                   probability out (builtin operators only); what the model server runs by default
    saved_model/   TF SavedModel, signature ``serving_default``: named raw inputs -> delay_probability
    model.keras    the Keras model, for evaluation and retraining (needs this package's layers)
    model.json     features, vocabularies, window, hyper-parameters, history, threshold, versions, and
                   under ``"tflite"`` the core's inputs and vocabularies (``core_contract.py``)

The core is checked against the Keras model before it is written (``tflite_core.write_core``).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras

# Imported for its side effect: registering the custom layers that ``model.keras`` names.
import components.train.layers  # noqa: F401
from components.train.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from components.train.logic import TrainedModel
from components.train.metadata import ModelMetadata
from components.train.tflite_core import write_core
from contracts.core_contract import SECTION, CoreContract
from contracts.errors import ModelContractError, TrainingError
from contracts.names import KERAS_FILE, METADATA_FILE, OUTPUT_NAME, SAVED_MODEL_DIR


def export_model(trained: TrainedModel, artifact_dir: Path) -> Path:
    """Writes the four parts of the artifact into ``artifact_dir`` (created if absent).

    Args:
        trained: The result of ``train_model``.
        artifact_dir: An empty or new folder (for KFP, the output artifact's ``path``).

    Returns:
        ``artifact_dir``.

    Raises:
        TrainingError: when the folder already holds a model or cannot be written, or the TFLite core
            cannot be built or differs from the Keras model.
    """
    artifact_dir = Path(artifact_dir)
    if (artifact_dir / METADATA_FILE).exists() or (artifact_dir / SAVED_MODEL_DIR).exists():
        raise TrainingError(f"{artifact_dir} already holds a model; artifacts are never overwritten")
    try:
        artifact_dir.mkdir(parents=True, exist_ok=True)
        trained.model.export(str(artifact_dir / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        trained.model.save(artifact_dir / KERAS_FILE)
        core = write_core(
            trained.model,
            artifact_dir,
            numeric=NUMERIC_FEATURES,
            categorical=CATEGORICAL_FEATURES,
            output_name=OUTPUT_NAME,
        )
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot export the model to {artifact_dir}: {exc}") from exc
    except ModelContractError as exc:
        raise TrainingError(f"cannot export the model's TFLite core: {exc}") from exc
    _check_vocabularies(core, trained.metadata)
    document = {**trained.metadata.to_dict(), SECTION: core.to_dict()}
    (artifact_dir / METADATA_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return artifact_dir


def _check_vocabularies(core: CoreContract, metadata: ModelMetadata) -> None:
    # The core's vocabularies are read from the model's lookup layers, model.json's from the training
    # rows; serving trusts the former, evaluation and the serving schema the latter.
    learnt = {name: tuple(vocabulary) for name, vocabulary in metadata.stats.vocabularies.items()}
    if dict(core.vocabularies) != learnt:
        differing = sorted(name for name in learnt if learnt[name] != core.vocabularies.get(name))
        raise TrainingError(
            f"the model's lookup vocabularies differ from the training statistics on {differing}"
        )


def load_model(artifact_dir: Path) -> keras.Model:
    """Loads the Keras model of an artifact folder, ready for ``predict_proba``.

    Raises:
        TrainingError: when ``model.keras`` is absent or unreadable.
    """
    path = Path(artifact_dir) / KERAS_FILE
    if not path.is_file():
        raise TrainingError(f"no model at {path}")
    try:
        return keras.saving.load_model(path)
    except (OSError, ValueError, TypeError) as exc:
        raise TrainingError(f"cannot load the model {path}: {exc}") from exc


def load_metadata(artifact_dir: Path) -> ModelMetadata:
    """Reads ``model.json`` of an artifact folder.

    Raises:
        TrainingError: when it is absent, malformed or of another format version.
    """
    return ModelMetadata.read(Path(artifact_dir) / METADATA_FILE)
