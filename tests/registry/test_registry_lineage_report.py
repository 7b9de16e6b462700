"""The lineage report walks back from a version through every step that led to it."""

from __future__ import annotations

import json

from registry_support import record_pipeline_run

from components.lineage import LineageStore
from components.registry import ModelRegistry
from components.registry.report import version_lineage
from components.registry.report_text import render_lineage


def test_report_lists_every_upstream_step_with_data_parameters_timings_and_versions(
    store: LineageStore, registry: ModelRegistry
) -> None:
    registry.register(record_pipeline_run(store, "run-1", auc=0.70))
    registry.register(record_pipeline_run(store, "run-2", auc=0.73))
    registry.promote("v1", reason="first")
    registry.promote("v2", reason="better AUC")

    report = json.loads(json.dumps(version_lineage(store, registry, "v2")))

    steps = report["steps"]
    assert [s["component"] for s in steps] == [
        "ingest",
        "statistics",
        "validate",
        "train",
        "evaluate",
        "register",
    ]
    assert {s["run_id"] for s in steps} == {"run-2"}
    assert [s["code_version"] for s in steps] == [f"sha-{s['component']}" for s in steps]
    assert [s["duration_seconds"] for s in steps] == [30.0, 31.0, 32.0, 33.0, 34.0, 35.0]
    assert steps[0]["started"] == "2026-11-27T08:00:00+00:00"
    assert steps[3]["parameters"] == {"epochs": 3, "learning_rate": 0.001}
    [batch] = [a for a in steps[0]["outputs"] if a["type"] == "Dataset"]
    assert (batch["uri"], batch["properties"]["rows"]) == ("/out/run-2/examples.parquet", 27004)
    assert [a["name"] for a in steps[2]["inputs"]] == ["statistics", "schema"]
    assert steps[-1]["outputs"][0]["id"] == report["version"]["artifact_id"]

    artifacts = report["artifacts"]
    assert sorted(artifacts) == [
        "Anomalies",
        "Dataset",
        "Evaluation",
        "Model",
        "ModelVersion",
        "Schema",
        "Statistics",
    ]
    assert [a["uri"] for a in artifacts["Dataset"]] == ["/data/flights.csv", "/out/run-2/examples.parquet"]
    assert artifacts["Statistics"][0]["properties"] == {"num_examples": 27004}
    assert artifacts["Anomalies"][0]["properties"] == {"count": 0}

    version = report["version"]
    assert (version["version"], version["stage"], version["previous_production"]) == (
        "v2",
        "production",
        "v1",
    )
    assert version["metrics"]["auc"] == 0.73
    assert [c["passed"] for c in version["blessing_checks"]] == [True, True]
    assert [(t["from_stage"], t["to_stage"]) for t in report["transitions"]] == [
        (None, "blessed"),
        ("blessed", "production"),
    ]
    assert report["timing"] == {
        "started": "2026-11-27T08:00:00+00:00",
        "ended": "2026-11-27T08:05:35+00:00",
        "wall_seconds": 335.0,
        "step_seconds": 195.0,
    }


def test_text_rendering_names_the_version_steps_data_and_history(
    store: LineageStore, registry: ModelRegistry
) -> None:
    registry.register(record_pipeline_run(store, "run-1", blessed=False))
    text = render_lineage(version_lineage(store, registry, 1))

    assert text.splitlines()[0] == "flight-delay v1  stage=rejected  blessed=NO"
    assert "  previous production:  -" in text
    assert "FAIL no_worse_than_production  threshold=0.0000, value=0.0100" in text
    assert "  1. ingest  code=sha-ingest  COMPLETE  2026-11-27T08:00:00+00:00  30.00 s  run=run-1" in text
    assert "out examples [Dataset #" in text and "/out/run-1/examples.parquet  (month=7, rows=27004)" in text
    assert "out model_version [ModelVersion #" in text and "(this version)" in text
    assert "#1 2026-11-27T12:00:00+00:00  (new) -> rejected  [register by test]  registered" in text
    assert "auc_by_origin(EWR=0.6900, JFK=0.7100, LGA=0.7000)" in text
