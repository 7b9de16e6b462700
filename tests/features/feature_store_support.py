"""Helpers shared by the feature-store tests: comparable values."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def comparable(value: Any) -> Any:
    """None for every kind of missing value, floats rounded past float64 noise; else the value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(float(value), 9)
    return value
