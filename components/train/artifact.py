"""The model artifact folder: ``saved_model/`` for serving, ``model.keras`` and ``model.json``.

Layout (``artifact_dir``)::

    saved_model/   TF SavedModel, signature ``serving_default``: named raw inputs -> delay_probability
    model.keras    the Keras model, for evaluation and retraining (needs this package's layers)
    model.json     features, vocabularies, window, hyper-parameters, history, threshold, versions
"""

from __future__ import annotations

from pathlib import Path

import keras

# Imported for its side effect: registering the custom layers that ``model.keras`` names.
import components.train.layers  # noqa: F401
from components.errors import TrainingError
from components.train.logic import TrainedModel
from components.train.metadata import ModelMetadata

SAVED_MODEL_DIR = "saved_model"
KERAS_FILE = "model.keras"
METADATA_FILE = "model.json"


def export_model(trained: TrainedModel, artifact_dir: Path) -> Path:
    """Writes the three parts of the artifact into ``artifact_dir`` (created if absent).

    Args:
        trained: The result of ``train_model``.
        artifact_dir: An empty or new folder (for KFP, the output artifact's ``path``).

    Returns:
        ``artifact_dir``.

    Raises:
        TrainingError: when the folder already holds a model or cannot be written.
    """
    artifact_dir = Path(artifact_dir)
    if (artifact_dir / METADATA_FILE).exists() or (artifact_dir / SAVED_MODEL_DIR).exists():
        raise TrainingError(f"{artifact_dir} already holds a model; artifacts are never overwritten")
    try:
        artifact_dir.mkdir(parents=True, exist_ok=True)
        trained.model.export(str(artifact_dir / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        trained.model.save(artifact_dir / KERAS_FILE)
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot export the model to {artifact_dir}: {exc}") from exc
    trained.metadata.write(artifact_dir / METADATA_FILE)
    return artifact_dir


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
