"""KFP step: fail the run on a ``halt`` verdict, before anything is trained or registered."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def gate(
    report: dsl.Input[dsl.Artifact],
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    approval: dsl.Output[dsl.Artifact],
) -> str:
    """Passes the verdict on to training as an approval artifact, or fails with every anomaly named."""
    from pathlib import Path

    from components.gate.logic import enforce
    from components.lineage import recorded_step
    from components.validation.report import REPORT_FILE, read_report

    with recorded_step(
        "gate",
        metadata_uri,
        run_id,
        pipeline,
        code_version,
        inputs={"report": ("ValidationReport", report.uri)},
    ) as step:
        verdict = enforce(read_report(Path(report.path) / REPORT_FILE))
        Path(approval.path).write_text(verdict, encoding="utf-8")
        step.add_output("approval", "DataApproval", uri=approval.uri, properties={"verdict": verdict})
    return verdict
