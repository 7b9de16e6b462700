"""The verdict: is the candidate good enough on its own, and no worse than production on the same rows?

Like TFX's Evaluator, absolute thresholds always apply and change thresholds apply only when there is a
production model; the first model is judged by the absolute thresholds alone. Every check is listed,
passed or failed, so the report can say exactly which threshold decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.evaluate.results import EvaluationResult, read_json, write_json
from components.evaluate.slices import CARRIER, ORIGIN
from components.evaluate.thresholds import Thresholds
from contracts.data_contract import ORIGINS
from contracts.errors import EvaluationError


@dataclass(frozen=True)
class Check:
    """One threshold applied to one measured value.

    Attributes:
        name: Stable identifier, e.g. ``origin_auc_min[JFK]`` or ``auc_drop_vs_production``.
        description: The rule in words, e.g. ``AUC of origin JFK >= 0.65``.
        value: What was measured (None when it could not be: an absent slice, a single class).
        threshold: The bound from the thresholds file.
        passed: Whether the value is within the bound; an unmeasurable value fails.
    """

    name: str
    description: str
    value: float | None
    threshold: float
    passed: bool


@dataclass(frozen=True)
class Verdict:
    """Blessed or not, with every check behind the decision.

    Attributes:
        blessed: True when every check passed.
        checks: Every check, absolute ones first, then slices, then the production comparison.
        compared_with_production: Whether change thresholds were applied.
    """

    blessed: bool
    checks: tuple[Check, ...]
    compared_with_production: bool

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed (empty when blessed)."""
        return tuple(check for check in self.checks if not check.passed)

    def summary(self) -> str:
        """One line: blessed, or not blessed with the failed checks' names."""
        if self.blessed:
            return f"blessed: all {len(self.checks)} checks passed"
        return "not blessed: failed " + ", ".join(check.name for check in self.failed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Verdict:
        """Rebuilds a verdict from ``to_dict`` output.

        Raises:
            EvaluationError: for a missing or malformed field.
        """
        try:
            return cls(
                blessed=bool(values["blessed"]),
                checks=tuple(Check(**check) for check in values["checks"]),
                compared_with_production=bool(values["compared_with_production"]),
            )
        except (KeyError, TypeError) as exc:
            raise EvaluationError(f"malformed verdict: {exc!r}") from exc


def _at_least(name: str, what: str, value: float | None, bound: float) -> Check:
    passed = value is not None and value >= bound
    return Check(name, f"{what} >= {bound:g}", value, bound, passed)


def _at_most(name: str, what: str, value: float | None, bound: float) -> Check:
    passed = value is not None and value <= bound
    return Check(name, f"{what} <= {bound:g}", value, bound, passed)


def _origin_auc(result: EvaluationResult, origin: str) -> float | None:
    found = result.slice(ORIGIN, origin)
    return found.metrics.auc if found is not None else None


def absolute_checks(candidate: EvaluationResult, thresholds: Thresholds) -> list[Check]:
    """Checks that need no production model: overall quality, calibration, and every slice."""
    overall = candidate.overall
    checks = [
        _at_least("auc_min", "overall AUC", overall.auc, thresholds.min_auc),
        _at_most("log_loss_max", "overall log loss", overall.log_loss, thresholds.max_log_loss),
        _at_most(
            "calibration_error_max",
            "expected calibration error",
            overall.expected_calibration_error,
            thresholds.max_expected_calibration_error,
        ),
    ]
    # Every origin is required: an origin absent from the evaluation rows cannot show the model works there.
    origin_aucs = {origin: _origin_auc(candidate, origin) for origin in ORIGINS}
    checks += [
        _at_least(f"origin_auc_min[{origin}]", f"AUC of origin {origin}", auc, thresholds.min_origin_auc)
        for origin, auc in origin_aucs.items()
    ]
    measured = [auc for auc in origin_aucs.values() if auc is not None]
    gap = max(measured) - min(measured) if len(measured) == len(ORIGINS) else None
    checks.append(
        _at_most("origin_auc_gap_max", "best minus worst origin AUC", gap, thresholds.max_origin_auc_gap)
    )
    checks += [
        _at_least(
            f"carrier_auc_min[{item.value}]",
            f"AUC of carrier {item.value} ({item.metrics.rows} rows)",
            item.metrics.auc,
            thresholds.min_carrier_auc,
        )
        for item in candidate.slices_of(CARRIER)
        if item.gated
    ]
    return checks


def change_checks(
    candidate: EvaluationResult, production: EvaluationResult, thresholds: Thresholds
) -> list[Check]:
    """Checks against the production model measured on the same rows.

    Raises:
        EvaluationError: when the two results were measured on different rows.
    """
    if candidate.data_fingerprint != production.data_fingerprint:
        raise EvaluationError(
            "candidate and production were evaluated on different rows; compare them on the same data"
        )
    checks = [
        _at_least(
            "auc_drop_vs_production",
            f"candidate AUC - production AUC ({_fmt(production.overall.auc)})",
            _difference(candidate.overall.auc, production.overall.auc),
            -thresholds.max_auc_drop,
        ),
        _at_most(
            "log_loss_rise_vs_production",
            f"candidate log loss - production log loss ({production.overall.log_loss:.4f})",
            candidate.overall.log_loss - production.overall.log_loss,
            thresholds.max_log_loss_increase,
        ),
    ]
    for origin in ORIGINS:
        production_auc = _origin_auc(production, origin)
        checks.append(
            _at_least(
                f"origin_auc_drop_vs_production[{origin}]",
                f"candidate - production AUC of origin {origin} ({_fmt(production_auc)})",
                _difference(_origin_auc(candidate, origin), production_auc),
                -thresholds.max_origin_auc_drop,
            )
        )
    return checks


def judge(
    candidate: EvaluationResult, production: EvaluationResult | None, thresholds: Thresholds
) -> Verdict:
    """Blesses the candidate when every absolute check passes and, if production exists, every change check.

    Args:
        candidate: The new model's evaluation.
        production: The serving model's evaluation on the SAME rows, or None for the first model.
        thresholds: From ``load_thresholds``.

    Returns:
        The verdict, listing every check.

    Raises:
        EvaluationError: when candidate and production were evaluated on different rows.

    Example:
        >>> verdict = judge(candidate_result, production_result, load_thresholds())
        >>> verdict.summary()
    """
    checks = absolute_checks(candidate, thresholds)
    if production is not None:
        checks += change_checks(candidate, production, thresholds)
    return Verdict(
        blessed=all(check.passed for check in checks),
        checks=tuple(checks),
        compared_with_production=production is not None,
    )


def save_verdict(verdict: Verdict, path: Path) -> Path:
    """Writes a verdict as JSON."""
    return write_json(verdict.to_dict(), path)


def load_verdict(path: Path) -> Verdict:
    """Reads a verdict written by ``save_verdict``."""
    return Verdict.from_dict(read_json(path))


def _difference(candidate: float | None, production: float | None) -> float | None:
    return None if candidate is None or production is None else candidate - production


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
