"""KFP step: statistics of a batch, validated against the curated schema and, for drift, the previous batch."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def validate(
    batch: dsl.Input[dsl.Dataset],
    previous_batch: dsl.Input[dsl.Dataset],
    measure_drift: bool,
    batch_name: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    stats: dsl.Output[dsl.Artifact],
    stats_view: dsl.Output[dsl.HTML],
    stats_summary: dsl.Output[dsl.Markdown],
    report: dsl.Output[dsl.Artifact],
    report_view: dsl.Output[dsl.Markdown],
) -> str:
    """Records statistics and the verdict (halt, retrain, proceed); never fails on bad data, the gate does.

    ``previous_batch`` is only compared with when ``measure_drift`` is set: kfp.local has no optional
    artifact inputs, so a batch judged on its own still names one.
    """
    from pathlib import Path

    from components.lineage import recorded_step
    from components.schema.logic import SCHEMA_PATH
    from components.validation.report import ANOMALIES_FILE
    from components.validation.step import ValidationOutputs, validate_batch

    outputs = ValidationOutputs(
        Path(stats.path),
        Path(stats_view.path),
        Path(stats_summary.path),
        Path(report.path),
        Path(report_view.path),
    )
    parameters: dict[str, str | bool] = {"batch": batch_name, "measure_drift": measure_drift}
    inputs = {
        "batch": ("Dataset", batch.uri),
        **({"previous_batch": ("Dataset", previous_batch.uri)} if measure_drift else {}),
        "schema": ("Schema", str(SCHEMA_PATH)),
    }
    with recorded_step(
        "validate", metadata_uri, run_id, pipeline, code_version, parameters=parameters, inputs=inputs
    ) as step:
        result = validate_batch(
            Path(batch.path),
            outputs,
            batch=batch_name,
            previous_batch_dir=Path(previous_batch.path) if measure_drift else None,
        )
        properties = {
            "verdict": result.verdict,
            "anomalies": len(result.anomalies),
            "drift_exceeded": len(result.exceeded),
        }
        step.add_output(
            "statistics", "Statistics", uri=stats.uri, properties={"num_examples": result.num_examples}
        )
        step.add_output("statistics_view", "HTML", uri=stats_view.uri)
        step.add_output("report", "ValidationReport", uri=report.uri, properties=properties)
        step.add_output("anomalies", "Anomalies", uri=f"{report.uri}/{ANOMALIES_FILE}")
    report.metadata.update(properties)
    return result.verdict
