"""Blessing thresholds: a TOML file beside this module, read into a frozen, validated record."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from components.toml_config import load_toml, table_fields
from contracts.errors import EvaluationError

DEFAULT_THRESHOLDS_PATH = Path(__file__).with_name("thresholds.toml")


@dataclass(frozen=True)
class Thresholds:
    """What a candidate must reach to be blessed (see ``thresholds.toml`` for the reasoning).

    Attributes:
        min_auc: Overall AUC at least this.
        max_log_loss: Overall log loss at most this.
        max_expected_calibration_error: Overall ECE at most this.
        min_origin_auc: AUC of every origin (EWR, JFK, LGA) at least this.
        max_origin_auc_gap: Best origin AUC minus worst origin AUC at most this.
        min_carrier_auc: AUC of every gated carrier at least this.
        min_slice_rows: Carriers with fewer evaluation rows are reported, not gated.
        max_auc_drop: Candidate AUC may fall at most this far below production's, same rows.
        max_log_loss_increase: Candidate log loss may rise at most this far above production's.
        max_origin_auc_drop: Each origin's AUC may fall at most this far below production's.
    """

    min_auc: float
    max_log_loss: float
    max_expected_calibration_error: float
    min_origin_auc: float
    max_origin_auc_gap: float
    min_carrier_auc: float
    min_slice_rows: int
    max_auc_drop: float
    max_log_loss_increase: float
    max_origin_auc_drop: float

    def __post_init__(self) -> None:
        for name in ("min_auc", "min_origin_auc", "min_carrier_auc", "max_origin_auc_gap"):
            if not 0 <= getattr(self, name) <= 1:
                raise EvaluationError(f"threshold {name} must be within [0, 1], got {getattr(self, name)}")
        for name in (
            "max_log_loss",
            "max_expected_calibration_error",
            "max_auc_drop",
            "max_log_loss_increase",
        ):
            if getattr(self, name) < 0:
                raise EvaluationError(f"threshold {name} must be >= 0, got {getattr(self, name)}")
        if self.max_origin_auc_drop < 0 or self.min_slice_rows < 1:
            raise EvaluationError("max_origin_auc_drop must be >= 0 and min_slice_rows >= 1")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


_SECTIONS = {
    "absolute": ("min_auc", "max_log_loss", "max_expected_calibration_error"),
    "slices": ("min_origin_auc", "max_origin_auc_gap", "min_carrier_auc", "min_slice_rows"),
    "change": ("max_auc_drop", "max_log_loss_increase", "max_origin_auc_drop"),
}


def thresholds_to_toml(thresholds: Thresholds) -> str:
    """The TOML text ``load_thresholds`` reads back into equal thresholds (without comments)."""
    values = thresholds.to_dict()
    return "\n".join(
        f"[{section}]\n" + "".join(f"{name} = {values[name]!r}\n" for name in names)
        for section, names in _SECTIONS.items()
    )


def load_thresholds(path: Path = DEFAULT_THRESHOLDS_PATH) -> Thresholds:
    """Reads thresholds from a TOML file with sections ``[absolute]``, ``[slices]`` and ``[change]``.

    Every key is required and no other key is allowed, so a typo cannot silently loosen a gate.

    Args:
        path: The TOML file; defaults to ``thresholds.toml`` beside this module.

    Raises:
        EvaluationError: when the file is absent, not TOML, lacks a section or key, has an unknown one,
            or holds a value of the wrong type or range; the message starts with ``path``.

    Example:
        >>> load_thresholds().min_auc
        0.63
    """
    return load_toml(Path(path), _thresholds, what="thresholds", tables=_SECTIONS, error=EvaluationError)


def _thresholds(document: dict[str, Any]) -> Thresholds:
    values: dict[str, Any] = {}
    for section, names in _SECTIONS.items():
        values |= table_fields(document, section, Thresholds, keys={name: name for name in names})
    return Thresholds(**values)
