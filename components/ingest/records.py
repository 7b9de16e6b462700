"""Rows of a batch as JSON-ready feature records, the form a prediction request carries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from contracts.data_contract import FEATURE_NAMES


def feature_records(
    frame: pd.DataFrame, limit: int | None = None, names: Sequence[str] = FEATURE_NAMES
) -> list[dict[str, Any]]:
    """The first ``limit`` rows as ``{feature: value}``; missing values become ``None`` (JSON null)."""
    rows = frame[list(names)].head(limit) if limit is not None else frame[list(names)]
    return [
        {name: _plain(value) for name, value in zip(names, row, strict=True)}
        for row in rows.itertuples(index=False)
    ]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
