"""The time-ordered split of a training window into fitting rows and validation rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from contracts.errors import DataContractError, TrainingError

TIME_COLUMN = "time_hour"


@dataclass(frozen=True)
class TrainingWindow:
    """Which rows trained the model and which rows validated it, by time.

    Attributes:
        months: Months present in the training frame.
        train_start: First ``time_hour`` of the fitting rows.
        validation_start: First ``time_hour`` of the validation rows (every fitting row is earlier).
        end: Last ``time_hour`` of the window.
        train_rows: Number of fitting rows.
        validation_rows: Number of validation rows.
    """

    months: tuple[int, ...]
    train_start: str
    validation_start: str
    end: str
    train_rows: int
    validation_rows: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {**vars(self), "months": list(self.months)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingWindow:
        """Rebuilds a window from ``to_dict`` output."""
        return cls(**{**values, "months": tuple(values["months"])})


def split_by_time(
    frame: pd.DataFrame, validation_fraction: float
) -> tuple[pd.DataFrame, pd.DataFrame, TrainingWindow]:
    """Splits off the LAST part of the window for validation, never cutting through one hour.

    A random split would let the model validate on hours it trained on (same weather, same delays);
    the later rows instead play the role of the next month the model will face.

    Args:
        frame: The training window; needs ``time_hour`` (ISO 8601, so text order is time order).
        validation_fraction: Approximate share of rows to validate on.

    Returns:
        Fitting rows, validation rows (both in time order) and the window they span.

    Raises:
        DataContractError: when ``time_hour`` is absent.
        TrainingError: when either part would be empty (too few distinct hours).
    """
    if TIME_COLUMN not in frame.columns:
        raise DataContractError(f"the training frame lacks {TIME_COLUMN!r}, needed for the time split")
    ordered = frame.sort_values(TIME_COLUMN, kind="mergesort").reset_index(drop=True)
    times = ordered[TIME_COLUMN].astype(str)
    cutoff = (
        times.iloc[min(int(len(ordered) * (1 - validation_fraction)), len(ordered) - 1)]
        if len(ordered)
        else ""
    )
    is_validation = times >= cutoff
    fitting, validation = ordered[~is_validation], ordered[is_validation]
    if fitting.empty or validation.empty:
        raise TrainingError(
            f"cannot split {len(ordered)} rows by time into fitting and validation rows "
            f"(validation_fraction={validation_fraction}); the window needs more than one hour of flights"
        )
    window = TrainingWindow(
        months=tuple(sorted(int(month) for month in ordered["month"].unique())) if "month" in ordered else (),
        train_start=str(times.iloc[0]),
        validation_start=cutoff,
        end=str(times.iloc[-1]),
        train_rows=len(fitting),
        validation_rows=len(validation),
    )
    return fitting.reset_index(drop=True), validation.reset_index(drop=True), window
