"""What a served model version is compared with, read from the lineage store and the registry.

- The statistics of its training data: the ``Statistics`` artifact the pipeline's validate step recorded
  for the training batch, found by walking the version's lineage. Where that artifact cannot be read from
  here (a cluster's object store seen from a machine without access), they are recomputed from the
  training batch's source the ingest step recorded (months of the default data, or a batch file).
- Its evaluation metrics, as the register step recorded them in the registry.
- Its decision threshold (``model.json`` in the model folder), which live accuracy must use too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.lineage import ExecutionRecord, LineageStore
from components.registry import ModelRegistry, ModelVersion
from components.statistics.logic import Statistics, compute_statistics, read_statistics
from components.statistics.step import STATISTICS_FILE
from contracts.errors import DataContractError, MonitoringError, ValidationError

TRAINING_BATCH = "training batch"  # the validate step's name for the training batch


@dataclass(frozen=True)
class ModelReference:
    """A model version and what its live behaviour is judged against.

    Attributes:
        version: The registry version (its name, URI, metrics).
        training_statistics: TFDV statistics of the data it was trained on.
        statistics_source: Where they came from, for the report.
        training_source: What the training batch was (``months 1,2,3`` or a file name).
        decision_threshold: Probability at or above which it predicts "delayed"; None when unknown.
    """

    version: ModelVersion
    training_statistics: Statistics
    statistics_source: str
    training_source: str
    decision_threshold: float | None

    @property
    def evaluation(self) -> Mapping[str, Any]:
        """Evaluation metrics recorded at registration (``auc``, ``accuracy``, ``log_loss``, ...)."""
        return self.version.metrics


def load_reference(store: LineageStore, registry: ModelRegistry, version: str) -> ModelReference:
    """Finds a version's training statistics, evaluation metrics and decision threshold.

    Raises:
        MonitoringError: when the version's lineage holds no training batch, or neither its statistics
            nor the data they were computed from can be read.
        RegistryError: for an unknown version.
    """
    found = registry.get(version)
    steps = store.upstream(found.artifact_id)
    validate = _training_validation(steps, found.version)
    statistics_artifact = next((a for a in validate.outputs if a.type == "Statistics"), None)
    batch = next((a for a in validate.inputs if a.type == "Dataset"), None)
    ingest = next(
        (s for s in steps if s.component == "ingest" and batch and any(o.id == batch.id for o in s.outputs)),
        None,
    )
    source = _describe_source(ingest)
    stats, where = _statistics(
        statistics_artifact.uri if statistics_artifact else None, ingest, found.version
    )
    return ModelReference(
        version=found,
        training_statistics=stats,
        statistics_source=where,
        training_source=source,
        decision_threshold=_decision_threshold(Path(found.uri)),
    )


def _training_validation(steps: list[ExecutionRecord], version: str) -> ExecutionRecord:
    for step in steps:
        if step.component == "validate" and step.parameters.get("batch") == TRAINING_BATCH:
            return step
    raise MonitoringError(
        f"the lineage of {version} records no validation of its training batch, so there are no training "
        "statistics to compare served data with; was it registered by the continuous-training pipeline?"
    )


def _describe_source(ingest: ExecutionRecord | None) -> str:
    if ingest is None:
        return "unknown"
    data_file = str(ingest.parameters.get("data_file") or "")
    return f"file {data_file}" if data_file else f"months {ingest.parameters.get('months', '?')} of 2013"


def _statistics(uri: str | None, ingest: ExecutionRecord | None, version: str) -> tuple[Statistics, str]:
    problems = []
    if uri:
        path = Path(uri) / STATISTICS_FILE
        try:
            return read_statistics(path), str(path)
        except ValidationError as exc:
            problems.append(str(exc))
    if ingest is not None:
        try:
            return compute_statistics(_training_frame(ingest)), f"recomputed from {_describe_source(ingest)}"
        except (DataContractError, ValidationError) as exc:
            problems.append(f"recomputing them failed: {exc}")
    raise MonitoringError(
        f"cannot obtain the training statistics of {version}: {'; '.join(problems) or 'nothing recorded'}"
    )


def _training_frame(ingest: ExecutionRecord) -> Any:
    from components.ingest.batch_io import read_batch
    from components.ingest.logic import load_months
    from components.ingest.step import feature_store

    data_file = str(ingest.parameters.get("data_file") or "")
    if data_file:
        return read_batch(Path(data_file))
    months = [int(m) for m in str(ingest.parameters.get("months", "")).split(",") if m.strip()]
    # The store the training run looked its features up in; a cluster step's private store is rebuilt.
    return load_months(months, feature_store(str(ingest.parameters.get("feature_repo") or "")))


def _decision_threshold(model_dir: Path) -> float | None:
    # Read from the JSON directly: the model's own loader imports Keras, which the monitor does not need.
    try:
        value = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))["decision_threshold"]
        return float(value)
    except (OSError, ValueError, KeyError, TypeError):
        return None
