"""Drift and skew thresholds, read from ``thresholds.toml`` into typed, frozen values.

The file is the one place thresholds live; ``README.md`` beside it records the measurements that chose
them. Nothing is read at import time: callers pass a path or take the default file explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from components.toml_config import check_names, load_toml, names, number, table
from contracts.errors import ConfigError

THRESHOLDS_PATH = Path(__file__).with_name("thresholds.toml")
_COMPARISON_KEYS = {"numeric_js_divergence", "categorical_linf", "features", "per_feature"}


@dataclass(frozen=True)
class ComparisonThresholds:
    """Thresholds of one comparison (drift or skew) and the features it covers.

    A measurement *above* its threshold counts as exceeded, the rule TFDV applies too.
    """

    numeric_js_divergence: float
    categorical_linf: float
    features: tuple[str, ...]
    per_feature: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def threshold_for(self, feature: str, *, numeric: bool) -> float:
        """The feature's own threshold if it has one, else the default for its kind."""
        default = self.numeric_js_divergence if numeric else self.categorical_linf
        return self.per_feature.get(feature, default)


@dataclass(frozen=True)
class Thresholds:
    """Drift (this batch vs the previous batch) and skew (training vs serving) thresholds."""

    drift: ComparisonThresholds
    skew: ComparisonThresholds


def _threshold(value: Any, where: str) -> float:
    threshold = number(value, where)
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"{where} must be a number in (0, 1], got {value!r}")
    return threshold


def _comparison(document: dict[str, Any], section: str) -> ComparisonThresholds:
    raw = table(document, section)
    check_names(raw, _COMPARISON_KEYS, where=f"[{section}]", noun="keys", optional={"per_feature"})
    features = names(raw["features"], f"[{section}] features", item="feature name")
    per_feature = raw.get("per_feature", {})
    if not isinstance(per_feature, dict):
        raise ConfigError(f"[{section}.per_feature] must be a table of feature = threshold")
    stray = sorted(set(per_feature) - set(features))
    if stray:
        raise ConfigError(f"[{section}.per_feature] names features that are not compared: {stray}")
    return ComparisonThresholds(
        numeric_js_divergence=_threshold(raw["numeric_js_divergence"], f"[{section}] numeric_js_divergence"),
        categorical_linf=_threshold(raw["categorical_linf"], f"[{section}] categorical_linf"),
        features=features,
        per_feature=MappingProxyType(
            {
                name: _threshold(value, f"[{section}.per_feature] {name}")
                for name, value in per_feature.items()
            }
        ),
    )


def _thresholds(document: dict[str, Any]) -> Thresholds:
    return Thresholds(drift=_comparison(document, "drift"), skew=_comparison(document, "skew"))


def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    """Reads and checks the thresholds file.

    Args:
        path: A TOML file with ``[drift]`` and ``[skew]`` tables; the file beside this module by default.

    Returns:
        The thresholds, immutable.

    Raises:
        ConfigError: when the file is missing, not TOML, or a value is missing, unknown or out of range.
    """
    return load_toml(path, _thresholds, what="thresholds", tables=("drift", "skew"))
