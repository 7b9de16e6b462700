"""Helpers shared by the feature-store tests: entity rows from real flights, and comparable values."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from components.features.catalog import CARRIER, ORIGIN, ROUTE, TAILNUM, TIMESTAMP_COLUMN


def entity_frame(flights: pd.DataFrame) -> pd.DataFrame:
    """The entity rows of flights in the data contract, looked up at their scheduled departure hour."""
    return pd.DataFrame(
        {
            ORIGIN: flights["origin"].astype(str),
            TAILNUM: flights["tailnum"].fillna("").astype(str),
            CARRIER: flights["carrier"].astype(str),
            ROUTE: (flights["origin"] + "-" + flights["dest"]).astype(str),
            TIMESTAMP_COLUMN: pd.to_datetime(flights["time_hour"], utc=True),
        }
    ).reset_index(drop=True)


def comparable(value: Any) -> Any:
    """None for every kind of missing value, floats rounded past float64 noise; else the value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(float(value), 9)
    return value
