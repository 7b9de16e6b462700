"""KFP step: evaluate the candidate on the new batch, per slice, against the production model."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def evaluate(
    model: dsl.Input[dsl.Model],
    batch: dsl.Input[dsl.Dataset],
    model_name: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    evaluation: dsl.Output[dsl.Artifact],
    metrics: dsl.Output[dsl.Metrics],
    classification: dsl.Output[dsl.ClassificationMetrics],
    report: dsl.Output[dsl.Markdown],
) -> bool:
    """Returns whether the candidate is blessed; the verdict names every threshold passed or failed."""
    from pathlib import Path

    from components.evaluate.step import evaluate_step, evaluation_properties, scalar_metrics
    from components.lineage import recorded_step
    from components.registry import ModelRegistry

    with recorded_step(
        "evaluate",
        metadata_uri,
        run_id,
        pipeline,
        code_version,
        inputs={"model": ("Model", model.uri), "batch": ("Dataset", batch.uri)},
    ) as step:
        production = ModelRegistry(step.store, model_name=model_name).production()
        if production is not None:
            step.add_input("production_model", "Model", uri=production.uri)
        outcome = evaluate_step(
            Path(model.path),
            Path(batch.path),
            Path(evaluation.path),
            Path(report.path),
            production_model_dir=Path(production.uri) if production else None,
        )
        properties = evaluation_properties(outcome, production.version if production else None)
        step.add_output("evaluation", "Evaluation", uri=evaluation.uri, properties=properties)
    for name, value in scalar_metrics(outcome).items():
        metrics.log_metric(name, value)
    candidate = outcome.candidate
    classification.log_roc_curve(
        list(candidate.roc_fpr), list(candidate.roc_tpr), list(candidate.roc_thresholds)
    )
    classification.log_confusion_matrix(
        list(candidate.confusion_categories), [list(row) for row in candidate.confusion_matrix]
    )
    return outcome.verdict.blessed
