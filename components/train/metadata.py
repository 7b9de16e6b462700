"""``model.json``: what a trained model reads, what it learned from, and how it was trained."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.train.features import CATEGORICAL_FEATURES, INDICATED_FEATURES, NUMERIC_FEATURES, FeatureStats
from components.train.hyperparameters import HyperParameters
from components.train.layers import SCHEDULE_FEATURE_NAMES
from components.train.split import TrainingWindow
from contracts.data_contract import BY_NAME
from contracts.errors import TrainingError
from contracts.names import OUTPUT_NAME

FORMAT_VERSION = 1


def input_spec() -> list[dict[str, str]]:
    """The serving signature's inputs: name, tensor dtype and contract kind, one per raw feature."""
    spec = [{"name": name, "dtype": "float32", "kind": str(BY_NAME[name].kind)} for name in NUMERIC_FEATURES]
    spec += [
        {"name": name, "dtype": "string", "kind": str(BY_NAME[name].kind)} for name in CATEGORICAL_FEATURES
    ]
    return spec


@dataclass(frozen=True)
class ModelMetadata:
    """Everything ``model.json`` holds.

    Attributes:
        stats: Imputation means, clip ranges and vocabularies learnt from the fitting rows.
        window: The training window and its time split.
        hyperparameters: How the model was trained (the seed included).
        history: Per-epoch Keras metrics (``loss``, ``val_loss``, ...).
        decision_threshold: Probability at or above which a flight is predicted delayed (best F1 on
            the validation rows).
        validation: Loss and AUC of the kept weights on the validation rows.
        training_seconds: Wall time of ``fit``, guards included.
        versions: TensorFlow, Keras and Python versions that trained the model.
    """

    stats: FeatureStats
    window: TrainingWindow
    hyperparameters: HyperParameters
    history: Mapping[str, list[float]]
    decision_threshold: float
    validation: Mapping[str, float]
    training_seconds: float
    versions: Mapping[str, str]
    inputs: list[dict[str, str]] = field(default_factory=input_spec)
    output_name: str = OUTPUT_NAME

    def to_dict(self) -> dict[str, Any]:
        """The JSON document, with a format version and the derived and indicator features spelt out."""
        return {
            "format_version": FORMAT_VERSION,
            "inputs": self.inputs,
            "output": {"name": self.output_name, "dtype": "float32", "shape": [None, 1]},
            "missing_indicators": list(INDICATED_FEATURES),
            "derived_features": list(SCHEDULE_FEATURE_NAMES),
            "missing_category": "",
            "stats": self.stats.to_dict(),
            "window": self.window.to_dict(),
            "hyperparameters": self.hyperparameters.to_dict(),
            "seed": self.hyperparameters.seed,
            "history": {key: list(values) for key, values in self.history.items()},
            "decision_threshold": self.decision_threshold,
            "validation": dict(self.validation),
            "training_seconds": self.training_seconds,
            "versions": dict(self.versions),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelMetadata:
        """Rebuilds metadata from ``to_dict`` output.

        Raises:
            TrainingError: for another format version or a missing key.
        """
        if values.get("format_version") != FORMAT_VERSION:
            raise TrainingError(f"model.json format {values.get('format_version')} is not {FORMAT_VERSION}")
        try:
            return cls(
                stats=FeatureStats.from_dict(values["stats"]),
                window=TrainingWindow.from_dict(values["window"]),
                hyperparameters=HyperParameters.from_dict(values["hyperparameters"]),
                history=values["history"],
                decision_threshold=float(values["decision_threshold"]),
                validation=values["validation"],
                training_seconds=float(values["training_seconds"]),
                versions=values["versions"],
                inputs=values["inputs"],
                output_name=values["output"]["name"],
            )
        except (KeyError, TypeError) as exc:
            raise TrainingError(f"model.json is incomplete: {exc}") from exc

    def write(self, path: Path) -> Path:
        """Writes the JSON document, creating parent folders."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> ModelMetadata:
        """Reads a ``model.json``.

        Raises:
            TrainingError: when the file is absent or not valid JSON.
        """
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise TrainingError(f"cannot read model metadata {path}: {exc}") from exc
