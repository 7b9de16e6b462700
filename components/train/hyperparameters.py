"""The training hyper-parameters: one typed, frozen, validated record stored beside every model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from contracts.errors import TrainingError


@dataclass(frozen=True)
class HyperParameters:
    """How a model is trained; defaults are the ones measured on months 1-6 of 2013.

    Attributes:
        learning_rate: Adam step size.
        batch_size: Rows per gradient step.
        epochs: Upper bound on passes over the training rows; early stopping usually ends sooner.
        hidden_units: Width of each hidden dense layer, first to last.
        embedding_dim: Upper bound on the embedding width of a categorical feature (a feature with a
            small vocabulary gets at most one dimension per value).
        dropout: Dropout rate after each hidden layer.
        early_stopping_patience: Epochs without a better validation loss before training stops.
        validation_fraction: Share of the training window, taken from its END, used for early stopping
            and for choosing the decision threshold.
        seed: Seeds Python, NumPy and TensorFlow; with op determinism on, the same data and seed give
            the same weights.
        deterministic_ops: Turns on ``tf.config.experimental.enable_op_determinism`` (process-wide).
    """

    learning_rate: float = 1e-3
    batch_size: int = 1024
    epochs: int = 8
    hidden_units: tuple[int, ...] = (64, 32)
    embedding_dim: int = 8
    dropout: float = 0.1
    early_stopping_patience: int = 2
    validation_fraction: float = 0.15
    seed: int = 42
    deterministic_ops: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.batch_size < 1 or self.epochs < 1 or self.embedding_dim < 1:
            problems.append("batch_size, epochs and embedding_dim must be >= 1")
        if not self.hidden_units or any(units < 1 for units in self.hidden_units):
            problems.append(
                f"hidden_units must be a non-empty list of positive widths, got {self.hidden_units}"
            )
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be within [0, 1), got {self.dropout}")
        if self.early_stopping_patience < 0:
            problems.append("early_stopping_patience must be >= 0")
        if not 0 < self.validation_fraction < 0.5:
            problems.append(f"validation_fraction must be within (0, 0.5), got {self.validation_fraction}")
        if problems:
            raise TrainingError("invalid hyper-parameters: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (tuples become lists)."""
        values = asdict(self)
        values["hidden_units"] = list(self.hidden_units)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> HyperParameters:
        """Rebuilds hyper-parameters from ``to_dict`` output; unknown keys are an error, missing keys default.

        Raises:
            TrainingError: for an unknown key or an invalid value.
        """
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TrainingError(f"unknown hyper-parameters: {unknown}")
        kwargs = dict(values)
        if "hidden_units" in kwargs:
            kwargs["hidden_units"] = tuple(int(units) for units in kwargs["hidden_units"])
        return cls(**kwargs)
