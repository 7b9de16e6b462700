"""The sliding window the monitor judges: the newest rows one model version answered, with their outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from components.monitoring.config import WindowConfig
from contracts.data_contract import LABEL


@dataclass(frozen=True)
class ServedWindow:
    """Served rows of one version in the window, each with its fed-back label where one arrived.

    Attributes:
        version: The model version whose answers these are.
        rows: Served rows (see ``served.read_served``) plus ``delayed``: 0/1, or missing (``<NA>``).
        start: Unix time of the oldest row, or None when empty.
        end: Unix time of the newest row, or None when empty.
    """

    version: str
    rows: pd.DataFrame
    start: float | None
    end: float | None

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def labelled(self) -> pd.DataFrame:
        """The rows whose true outcome came back."""
        return self.rows[self.rows[LABEL].notna()]


def select_window(
    served: pd.DataFrame, feedback: pd.DataFrame, *, version: str, now: float, config: WindowConfig
) -> ServedWindow:
    """The newest ``config.max_rows`` rows ``version`` answered in the last ``config.max_age_seconds``.

    Args:
        served: Rows from ``read_served``, oldest first.
        feedback: Labels from ``read_feedback`` (``request_id``, ``row``, ``delayed``).
        version: The model version to judge; other versions' rows (a canary's) are left out.
        now: Unix time the window ends at.
        config: Window size and age.
    """
    mine = served[(served["model_version"] == version) & (served["ts"] >= now - config.max_age_seconds)]
    mine = mine[mine["ts"] <= now].tail(config.max_rows)
    joined = mine.merge(feedback, on=["request_id", "row"], how="left", validate="many_to_one")
    joined[LABEL] = joined[LABEL].astype("Int64")
    joined = joined.reset_index(drop=True)
    empty = joined.empty
    return ServedWindow(
        version=version,
        rows=joined,
        start=None if empty else float(joined["ts"].iloc[0]),
        end=None if empty else float(joined["ts"].iloc[-1]),
    )
