"""Which contract columns the model reads, how a frame becomes model inputs, and training statistics.

Every numeric feature enters the model as float32 (integers are cast), every categorical one as a
string; a missing categorical value travels as the empty string, a missing numeric one as NaN. The same
function builds inputs for training, evaluation and tests so the three cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from contracts.data_contract import BY_NAME, FEATURE_NAMES, LABEL, Kind
from contracts.errors import DataContractError, TrainingError

NUMERIC_FEATURES: tuple[str, ...] = tuple(
    name for name in FEATURE_NAMES if BY_NAME[name].kind is not Kind.STRING
)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(
    name for name in FEATURE_NAMES if BY_NAME[name].kind is Kind.STRING
)
# Nullable numeric columns get a missing-indicator beside their imputed value.
INDICATED_FEATURES: tuple[str, ...] = tuple(name for name in NUMERIC_FEATURES if BY_NAME[name].nullable)
MISSING_CATEGORY = ""


@dataclass(frozen=True)
class NumericStats:
    """What the model learns about one numeric feature from its training rows.

    Attributes:
        mean: Imputed for a missing value.
        low: Smallest training value; serving inputs below it are clipped to it.
        high: Largest training value; serving inputs above it are clipped to it.
        missing_share: Share of training rows where the value was missing.
    """

    mean: float
    low: float
    high: float
    missing_share: float


@dataclass(frozen=True)
class FeatureStats:
    """Training-window statistics the model's preprocessing is built from."""

    numeric: Mapping[str, NumericStats]
    vocabularies: Mapping[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "numeric": {name: vars(stats).copy() for name, stats in self.numeric.items()},
            "vocabularies": {name: list(vocab) for name, vocab in self.vocabularies.items()},
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FeatureStats:
        """Rebuilds statistics from ``to_dict`` output."""
        return cls(
            numeric={name: NumericStats(**stats) for name, stats in values["numeric"].items()},
            vocabularies={name: tuple(vocab) for name, vocab in values["vocabularies"].items()},
        )


def _require_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataContractError(f"the frame lacks model feature columns {missing}")


def numeric_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One numeric feature as float32 with NaN for missing values (``Int64`` nulls included).

    Raises:
        DataContractError: when the column holds text that is not a number.
    """
    try:
        values = pd.to_numeric(frame[name], errors="raise")
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"column {name!r} must be numeric: {exc}") from exc
    # na_value: pandas' nullable integers (Int64) hold pd.NA, which has no float32 form of its own.
    return values.to_numpy(dtype="float64", na_value=np.nan).astype("float32")


def categorical_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One categorical feature as an object array of str, missing values as ``MISSING_CATEGORY``."""
    column = frame[name]
    text = column.astype("object").where(column.notna(), MISSING_CATEGORY)
    return np.asarray([str(value) for value in text], dtype=object)


def to_model_inputs(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The model's named inputs for every row of ``frame``: shape (rows, 1) each.

    Raises:
        DataContractError: when a feature column is absent or a numeric column holds text.
    """
    _require_columns(frame, FEATURE_NAMES)
    inputs: dict[str, np.ndarray] = {}
    for name in NUMERIC_FEATURES:
        inputs[name] = numeric_values(frame, name).reshape(-1, 1)
    for name in CATEGORICAL_FEATURES:
        inputs[name] = categorical_values(frame, name).reshape(-1, 1)
    return inputs


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    """The label as float32 of shape (rows, 1).

    Raises:
        DataContractError: when the label column is absent, missing somewhere, or not 0/1.
    """
    if LABEL not in frame.columns:
        raise DataContractError(f"the frame lacks the label column {LABEL!r}")
    labels = pd.to_numeric(frame[LABEL], errors="coerce")
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise DataContractError(f"label {LABEL!r} must be 0 or 1 on every row")
    return labels.to_numpy(dtype="float32").reshape(-1, 1)


def compute_feature_stats(frame: pd.DataFrame) -> FeatureStats:
    """Means, ranges and vocabularies of the training rows.

    A numeric column that is missing on every training row gets mean 0 and range [0, 0]: the model then
    sees a constant (plus its indicator), which is all such a column can teach it.

    Raises:
        TrainingError: for an empty frame.
        DataContractError: when a feature column is absent or malformed.
    """
    if frame.empty:
        raise TrainingError("cannot compute feature statistics of an empty training frame")
    _require_columns(frame, FEATURE_NAMES)
    numeric: dict[str, NumericStats] = {}
    for name in NUMERIC_FEATURES:
        values = numeric_values(frame, name).astype("float64")
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            numeric[name] = NumericStats(0.0, 0.0, 0.0, 1.0)
            continue
        numeric[name] = NumericStats(
            mean=float(finite.mean()),
            low=float(finite.min()),
            high=float(finite.max()),
            missing_share=float(1 - finite.size / values.size),
        )
    vocabularies = {
        name: tuple(sorted(set(categorical_values(frame, name)))) for name in CATEGORICAL_FEATURES
    }
    return FeatureStats(numeric=numeric, vocabularies=vocabularies)
