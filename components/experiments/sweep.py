"""A parameter set as the continuous-training pipeline's arguments (no kfp here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.experiments.parameters import DEFAULT_WINDOW
from components.register.step import KEEP_CANDIDATE
from components.time_order.logic import TrainingWindow, parse_months


def pipeline_arguments(parameters: Mapping[str, Any], *, window: str = DEFAULT_WINDOW) -> dict[str, Any]:
    """The pipeline arguments of one run: its knobs, its time-ordered window, and registration as a candidate.

    Raises:
        ConfigError: when the window leaves no later month to judge the model on.
    """
    months = TrainingWindow(tuple(parse_months(str(parameters.get("months", window)))))
    knobs = {key: value for key, value in parameters.items() if key != "months"}
    return {
        **knobs,
        "train_months": list(months.train_months),
        "eval_month": months.new_batch_month,
        "previous_month": months.drift_reference_month,
        "promotion": KEEP_CANDIDATE,
    }
