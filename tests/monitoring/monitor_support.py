"""Shared by the monitoring and trigger tests: real flights, a real (small) model, real request logs and a
production version recorded in a real lineage store the way the pipeline records one."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from default_data import default_year

from components.evaluate.slices import binary_metrics
from components.ingest.logic import select_months
from components.lineage import LineageStore
from components.monitoring.config import load_monitor_config
from components.monitoring.monitor import MonitorResult, check_production
from components.monitoring.reference import ModelReference
from components.monitoring.served import ServedLog
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, ModelVersion, Stage, version_properties
from components.schema.logic import load_schema
from components.serving.request_log import RequestLog, served_record
from components.serving.validation import RequestValidator
from components.statistics.logic import compute_statistics, write_statistics
from components.statistics.step import STATISTICS_FILE
from components.validation.config import load_thresholds
from contracts.data_contract import FEATURE_NAMES, LABEL
from contracts.serving_schema import ServingSchema

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEMA = PROJECT_ROOT / "contracts" / "serving_schema.example.json"
TRAIN_MONTHS = (5, 6)


@functools.cache
def year() -> pd.DataFrame:
    return default_year()


def sample(months: tuple[int, ...], rows: int, seed: int) -> pd.DataFrame:
    """``rows`` flights drawn from ``months`` of 2013, reproducibly."""
    return select_months(year(), months).sample(n=rows, random_state=seed).reset_index(drop=True)


class DelayModel:
    """A real model, fitted in milliseconds: logistic regression on the departure hour and the carrier's
    delay rate, by gradient descent in NumPy. Good enough to lose accuracy when the world changes."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.carrier_rate = frame.groupby("carrier")[LABEL].mean().to_dict()
        self.prior = float(frame[LABEL].mean())
        x, y = self._design(frame), frame[LABEL].to_numpy(dtype=np.float64)
        self.weights = np.zeros(x.shape[1])
        for _ in range(300):
            p = 1 / (1 + np.exp(-x @ self.weights))
            self.weights -= 0.5 * x.T @ (p - y) / len(y)

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        hour = frame["hour"].to_numpy(dtype=np.float64)
        rate = frame["carrier"].map(self.carrier_rate).fillna(self.prior).to_numpy(dtype=np.float64)
        return np.column_stack([np.ones(len(frame)), (hour - 13) / 5, (rate - 0.25) * 10])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return 1 / (1 + np.exp(-self._design(frame) @ self.weights))

    def metrics(self, frame: pd.DataFrame, threshold: float = 0.25) -> dict[str, Any]:
        m = binary_metrics(frame[LABEL].to_numpy(), self.predict(frame), threshold)
        return {
            "auc": m.auc,
            "log_loss": m.log_loss,
            "accuracy": m.accuracy,
            "expected_calibration_error": m.expected_calibration_error,
        }


@functools.cache
def delay_model() -> DelayModel:
    return DelayModel(select_months(year(), TRAIN_MONTHS))


@functools.cache
def delay_model_reference() -> ModelReference:
    """The production version ``delay_model()`` stands for: trained on May-June, evaluated on held-out rows."""
    training = select_months(year(), TRAIN_MONTHS)
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    version = ModelVersion(
        model="flight-delay",
        version="v1",
        number=1,
        artifact_id=1,
        stage=Stage.PRODUCTION,
        uri="/nowhere",
        metrics=delay_model().metrics(sample(TRAIN_MONTHS, 3_000, seed=99)),
        blessed=True,
        blessing_checks=(),
        run_id="r",
        pipeline="p",
        code_version="c",
        registered_at=now,
        stage_changed_at=now,
        previous_production=None,
    )
    return ModelReference(
        version=version,
        training_statistics=compute_statistics(training),
        statistics_source="computed by the test",
        training_source="months 5,6 of 2013",
        decision_threshold=0.25,
    )


def monitor_result(frame: pd.DataFrame, labels: np.ndarray | None = None) -> MonitorResult:
    """The monitor's verdict on ``frame`` served by ``delay_model()`` with its true (or given) outcomes."""
    predictions = delay_model().predict(frame)
    served = served_log(frame, predictions, version="v1", start=1_000.0)
    truth = frame.assign(**{LABEL: frame[LABEL] if labels is None else labels})
    return check_production(
        served,
        feedback_of(truth, list(served.rows["request_id"])),
        delay_model_reference(),
        config=load_monitor_config(),
        thresholds=load_thresholds(),
        schema=load_schema(),
        now=1_000.0 + len(frame),
    )


def write_served(
    folder: Path,
    frame: pd.DataFrame,
    predictions: np.ndarray,
    *,
    version: str,
    prefix: str,
    start: float | None = None,
) -> list[str]:
    """Logs one one-row request per flight with the server's own validator and request log writer.

    Returns:
        The request ids, in order.
    """
    validator = RequestValidator(ServingSchema.read(EXAMPLE_SCHEMA))
    log = RequestLog(folder, flush_seconds=0.01)
    start = time.time() - len(frame) if start is None else start
    ids = []
    records = frame[list(FEATURE_NAMES)].astype(object).where(frame[list(FEATURE_NAMES)].notna(), None)
    for index, (record, probability) in enumerate(zip(records.to_dict("records"), predictions, strict=True)):
        request_id = f"{prefix}-{index}"
        batch = validator.parse({"jsonData": record})
        log.append(
            served_record(start + index, request_id, version, batch, np.array([probability]), protocol="rest")
        )
        ids.append(request_id)
    log.close()
    return ids


def served_log(frame: pd.DataFrame, predictions: np.ndarray, *, version: str, start: float) -> ServedLog:
    """Served rows as ``read_served`` returns them, built in memory (for pure checks)."""
    rows = frame[list(FEATURE_NAMES)].copy()
    rows.insert(0, "prediction", predictions)
    rows.insert(0, "model_version", version)
    rows.insert(0, "ts", start + np.arange(len(frame), dtype=np.float64))
    rows.insert(0, "row", 0)
    rows.insert(0, "request_id", [f"r{i}" for i in range(len(frame))])
    return ServedLog(rows=rows)


def feedback_of(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"request_id": ids, "row": 0, LABEL: frame[LABEL].to_numpy(dtype=np.int64)})


def register_production(
    store: LineageStore,
    tmp: Path,
    *,
    training: pd.DataFrame,
    metrics: dict[str, Any],
    threshold: float = 0.25,
    model_name: str = "flight-delay",
    months: str = "5,6",
    trigger: str = "on-demand",
) -> str:
    """Records ingest -> validate (training batch, with its statistics) -> register as the pipeline does,
    then registers and promotes the version. Returns the version name. ``trigger`` is what started the
    run that registered it."""
    run_id = f"run-{time.time_ns()}"
    common = {"run_id": run_id, "pipeline": "continuous-training", "version": "test-sha"}
    batch_uri = str(tmp / run_id / "batch")
    stats_dir = tmp / run_id / "stats"
    write_statistics(compute_statistics(training), stats_dir / STATISTICS_FILE)
    model_dir = tmp / run_id / "model"
    model_dir.mkdir(parents=True)
    (model_dir / "model.json").write_text(f'{{"decision_threshold": {threshold}}}', encoding="utf-8")
    with store.execution(
        component="ingest", parameters={"months": months, "data_file": ""}, **common
    ) as ingest:
        ingest.add_output("batch", "Dataset", uri=batch_uri)
    with store.execution(component="validate", parameters={"batch": "training batch"}, **common) as validate:
        validate.add_input("batch", "Dataset", uri=batch_uri)
        validate.add_output("statistics", "Statistics", uri=str(stats_dir))
    with store.execution(component="register", parameters={"trigger": trigger}, **common) as register:
        register.add_input("statistics", "Statistics", uri=str(stats_dir))
        properties = version_properties(metrics=metrics, blessed=True, checks=[])
        register.add_output("model_version", MODEL_VERSION_TYPE, uri=str(model_dir), properties=properties)
    registry = ModelRegistry(store, model_name=model_name, actor="test")
    version = registry.register(register.record.outputs[0].id, reason="test")
    return registry.promote(version.version, reason="test").version
