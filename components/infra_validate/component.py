"""KFP step: serve the candidate in the real serving environment and hold it to its budgets."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def infra_validate(
    model: dsl.Input[dsl.Model],
    batch: dsl.Input[dsl.Dataset],
    budgets_file: str,
    serving_venv: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    infra: dsl.Output[dsl.Artifact],
    report: dsl.Output[dsl.Markdown],
) -> bool:
    """Returns whether every budget held; a failure is a verdict, not a failed step."""
    from pathlib import Path

    from components.infra_validate.budgets import BUDGETS_PATH
    from components.infra_validate.step import infra_validate_step
    from components.lineage import recorded_step

    budgets_path = Path(budgets_file) if budgets_file else BUDGETS_PATH
    with recorded_step(
        "infra-validate",
        metadata_uri,
        run_id,
        pipeline,
        code_version,
        parameters={"budgets": str(budgets_path), "serving_venv": serving_venv},
        inputs={"model": ("Model", model.uri)},
    ) as step:
        outcome = infra_validate_step(
            Path(model.path),
            Path(batch.path),
            Path(infra.path),
            Path(report.path),
            budgets_path=budgets_path,
            serving_venv=Path(serving_venv) if serving_venv else None,
        )
        properties: dict[str, bool | float | str] = {"passed": outcome.passed}
        for check in outcome.checks:
            if isinstance(check.measured, int | float):
                properties[check.name] = check.measured
        step.add_output("infra", "InfraValidation", uri=infra.uri, properties=properties)
    return outcome.passed
