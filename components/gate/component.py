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
    from components.lineage import open_store
    from components.validation.report import REPORT_FILE, read_report

    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id, pipeline=pipeline, component="gate", version=code_version
        ) as execution,
    ):
        execution.add_input("report", "ValidationReport", uri=report.uri)
        verdict = enforce(read_report(Path(report.path) / REPORT_FILE))
        Path(approval.path).write_text(verdict, encoding="utf-8")
        execution.add_output("approval", "DataApproval", uri=approval.uri, properties={"verdict": verdict})
    return verdict
