"""Shared by the registry tests: a pipeline's worth of lineage recorded through the lineage store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from components.lineage import ArtifactSpec, LineageStore, PropertyValue
from components.registry import MODEL_VERSION_TYPE, version_properties

PIPELINE = "continuous-training"
START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FIXED_NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

STEPS = ["ingest", "statistics", "validate", "train", "evaluate", "register"]


def metrics(auc: float) -> dict[str, object]:
    return {
        "auc": auc,
        "log_loss": 0.45,
        "accuracy": 0.78,
        "auc_by_origin": {"EWR": auc - 0.01, "JFK": auc + 0.01, "LGA": auc},
    }


def checks(blessed: bool) -> list[dict[str, object]]:
    return [
        {"name": "auc_above_floor", "passed": True, "value": 0.7, "threshold": 0.65},
        {"name": "no_worse_than_production", "passed": blessed, "value": 0.01, "threshold": 0.0},
    ]


def record_register_step(store: LineageStore, run_id: str, *, blessed: bool = True, auc: float = 0.7) -> int:
    """Records only the register step (input model, output version); returns the version artifact id."""
    with store.execution(
        run_id=run_id, pipeline=PIPELINE, component="register", version="sha-register"
    ) as register:
        register.add_input("model", "Model", uri=f"/out/{run_id}/model")
        register.add_output(
            "model_version",
            MODEL_VERSION_TYPE,
            uri=f"/out/{run_id}/model",
            properties=version_properties(metrics=metrics(auc), blessed=blessed, checks=checks(blessed)),
        )
    return register.record.outputs[0].id


def record_pipeline_run(store: LineageStore, run_id: str, *, blessed: bool = True, auc: float = 0.7) -> int:
    """Records ingest → statistics → validate → train → evaluate → register with fixed times.

    Returns:
        The id of the ``ModelVersion`` artifact the register step output.
    """
    out = f"/out/{run_id}"
    data = ArtifactSpec("examples", "Dataset", f"{out}/examples.parquet", {"rows": 27004, "month": 7})
    stats = ArtifactSpec("statistics", "Statistics", f"{out}/stats.pb", {"num_examples": 27004})
    schema = ArtifactSpec("schema", "Schema", "/repo/components/schema/schema.pbtxt")
    anomalies = ArtifactSpec("anomalies", "Anomalies", f"{out}/anomalies.pbtxt", {"count": 0})
    model = ArtifactSpec("model", "Model", f"{out}/model", {"epochs": 3})
    evaluation = ArtifactSpec(
        "evaluation", "Evaluation", f"{out}/evaluation.json", {"auc": auc, "blessed": blessed}
    )
    version = ArtifactSpec(
        "model_version",
        MODEL_VERSION_TYPE,
        f"{out}/model",
        version_properties(metrics=metrics(auc), blessed=blessed, checks=checks(blessed)),
    )
    steps: list[tuple[str, dict[str, PropertyValue], list[ArtifactSpec], list[ArtifactSpec]]] = [
        ("ingest", {"months": "7"}, [ArtifactSpec("raw", "Dataset", "/data/flights.csv")], [data]),
        ("statistics", {}, [data], [stats]),
        ("validate", {"drift_threshold": 0.1}, [stats, schema], [anomalies]),
        ("train", {"epochs": 3, "learning_rate": 0.001}, [data, anomalies], [model]),
        ("evaluate", {"auc_floor": 0.65}, [model, data], [evaluation]),
        ("register", {"model_name": "flight-delay"}, [model, evaluation], [version]),
    ]
    for index, (component, parameters, inputs, outputs) in enumerate(steps):
        record = store.record_execution(
            run_id=run_id,
            pipeline=PIPELINE,
            component=component,
            version=f"sha-{component}",
            started=START + timedelta(minutes=index),
            ended=START + timedelta(minutes=index, seconds=30 + index),
            parameters=parameters,
            inputs=inputs,
            outputs=outputs,
        )
    return record.outputs[0].id
