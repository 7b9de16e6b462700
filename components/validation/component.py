"""KFP step: validate a batch's statistics against the curated schema and the previous batch."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def validate(
    stats: dsl.Input[dsl.Artifact],
    previous_stats: dsl.Input[dsl.Artifact],
    measure_drift: bool,
    batch_name: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    report: dsl.Output[dsl.Artifact],
    summary: dsl.Output[dsl.Markdown],
) -> str:
    """Records the verdict (halt, retrain, proceed); never fails on bad data, the gate does.

    ``previous_stats`` is only compared with when ``measure_drift`` is set: kfp.local has no optional
    artifact inputs, so a batch judged on its own still names one.
    """
    from pathlib import Path

    from components.lineage import open_store
    from components.schema.logic import SCHEMA_PATH
    from components.validation.report import ANOMALIES_FILE
    from components.validation.step import validate_step

    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id,
            pipeline=pipeline,
            component="validate",
            version=code_version,
            parameters={"batch": batch_name, "measure_drift": measure_drift},
        ) as execution,
    ):
        execution.add_input("statistics", "Statistics", uri=stats.uri)
        if measure_drift:
            execution.add_input("previous_statistics", "Statistics", uri=previous_stats.uri)
        execution.add_input("schema", "Schema", uri=str(SCHEMA_PATH))
        result = validate_step(
            Path(stats.path),
            Path(report.path),
            Path(summary.path),
            batch=batch_name,
            previous_stats_dir=Path(previous_stats.path) if measure_drift else None,
        )
        properties = {
            "verdict": result.verdict,
            "anomalies": len(result.anomalies),
            "drift_exceeded": len(result.exceeded),
        }
        execution.add_output("report", "ValidationReport", uri=report.uri, properties=properties)
        execution.add_output("anomalies", "Anomalies", uri=f"{report.uri}/{ANOMALIES_FILE}")
    report.metadata.update(properties)
    return result.verdict
