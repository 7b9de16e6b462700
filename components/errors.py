"""The project's one exception root and its families.

Third-party errors (pandas, TFDV, ML Metadata, Keras, HTTP clients) are translated at the boundary where
they happen, with ``raise ... from exc``, so callers only ever catch ``MlopsError``.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(MlopsError):
    """Configuration that is missing, malformed or contradictory."""


class DataContractError(MlopsError):
    """A data batch that cannot be read or does not follow the data contract."""


class LineageError(MlopsError):
    """The lineage store (ML Metadata) could not be opened, written or read."""


class ValidationError(MlopsError):
    """Statistics, a schema or an anomalies artifact that cannot be computed, read or written."""


class TrainingError(MlopsError):
    """A model that cannot be trained, does not converge, or is numerically unsound (NaN/Inf)."""


class EvaluationError(MlopsError):
    """A model that cannot be evaluated, or evaluation results and thresholds that cannot be read."""
