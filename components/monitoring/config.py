"""The monitor's settings, read from ``monitor.toml`` into frozen, checked values.

Nothing is read at import time: callers pass a path or take the packaged file explicitly. Drift and skew
thresholds are not here: the monitor reads the pipeline's own (``components/validation/thresholds.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.toml_config import load_toml, table_fields
from contracts.data_contract import FEATURE_NAMES
from contracts.errors import ConfigError

MONITOR_CONFIG_PATH = Path(__file__).with_name("monitor.toml")


@dataclass(frozen=True)
class WindowConfig:
    """The sliding window of served rows.

    Attributes:
        max_rows: The newest rows of the production version, at most.
        max_age_seconds: None older than this.
        min_rows: Fewer rows leave the data checks unjudged.
    """

    max_rows: int
    max_age_seconds: float
    min_rows: int

    def __post_init__(self) -> None:
        if not 0 < self.min_rows <= self.max_rows:
            raise ConfigError(
                f"[window] needs 0 < min_rows <= max_rows, got {self.min_rows}, {self.max_rows}"
            )
        if self.max_age_seconds <= 0:
            raise ConfigError(f"[window] max_age_seconds must be > 0, got {self.max_age_seconds}")


@dataclass(frozen=True)
class PerformanceConfig:
    """When live performance, measured on fed-back outcomes, counts as degraded.

    Attributes:
        min_labelled_rows: Labelled rows needed before judging.
        max_auc_drop: Evaluation AUC minus live AUC, at most.
        max_accuracy_drop: Evaluation accuracy minus live accuracy, at most.
        max_log_loss_increase: Live log loss minus evaluation log loss, at most.
        max_calibration_error: Live expected calibration error, at most.
    """

    min_labelled_rows: int
    max_auc_drop: float
    max_accuracy_drop: float
    max_log_loss_increase: float
    max_calibration_error: float

    def __post_init__(self) -> None:
        if self.min_labelled_rows < 1:
            raise ConfigError(f"[performance] min_labelled_rows must be >= 1, got {self.min_labelled_rows}")
        for name in ("max_auc_drop", "max_accuracy_drop", "max_log_loss_increase", "max_calibration_error"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"[performance] {name} must be within (0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class DataConfig:
    """Which drift and skew measurements are acted on.

    Attributes:
        ignore_features: Measured and reported, never a reason to retrain.
    """

    ignore_features: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.ignore_features) - set(FEATURE_NAMES))
        if unknown:
            raise ConfigError(f"[data] ignore_features names no model feature: {unknown}")


@dataclass(frozen=True)
class MonitorConfig:
    """Everything ``monitor.toml`` holds."""

    window: WindowConfig
    performance: PerformanceConfig
    data: DataConfig

    def with_window(self, **changes: Any) -> MonitorConfig:
        """A copy whose window settings are changed (the CLI's ``--window-rows``, a demo's smaller window)."""
        return replace(self, window=replace(self.window, **changes))


def _monitor_config(document: dict[str, Any]) -> MonitorConfig:
    return MonitorConfig(
        window=WindowConfig(**table_fields(document, "window", WindowConfig)),
        performance=PerformanceConfig(**table_fields(document, "performance", PerformanceConfig)),
        data=DataConfig(**table_fields(document, "data", DataConfig)),
    )


def load_monitor_config(path: Path = MONITOR_CONFIG_PATH) -> MonitorConfig:
    """Reads and checks the monitor's settings.

    Raises:
        ConfigError: when the file is missing, not TOML, or a value is missing, unknown or out of range.
    """
    return load_toml(
        path, _monitor_config, what="the monitor settings", tables=("window", "performance", "data")
    )
