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

    from components.evaluate.step import evaluate_step
    from components.lineage import open_store
    from components.registry import ModelRegistry

    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id, pipeline=pipeline, component="evaluate", version=code_version
        ) as execution,
    ):
        production = ModelRegistry(store, model_name=model_name).production()
        execution.add_input("model", "Model", uri=model.uri)
        execution.add_input("batch", "Dataset", uri=batch.uri)
        if production is not None:
            execution.add_input("production_model", "Model", uri=production.uri)
        outcome = evaluate_step(
            Path(model.path),
            Path(batch.path),
            Path(evaluation.path),
            Path(report.path),
            production_model_dir=Path(production.uri) if production else None,
        )
        overall = outcome.candidate.overall
        properties: dict[str, bool | float | str] = {
            "blessed": outcome.verdict.blessed,
            "auc": overall.auc or 0.0,
            "log_loss": overall.log_loss,
        }
        if production is not None:
            properties["compared_with"] = production.version
        execution.add_output("evaluation", "Evaluation", uri=evaluation.uri, properties=properties)
    for name in ("auc", "log_loss", "accuracy", "precision", "recall", "expected_calibration_error"):
        value = getattr(overall, name)
        if value is not None:
            metrics.log_metric(name, round(float(value), 6))
    for origin in outcome.candidate.slices_of("origin"):
        if origin.metrics.auc is not None:
            metrics.log_metric(f"auc_{origin.value}", round(origin.metrics.auc, 6))
    candidate = outcome.candidate
    classification.log_roc_curve(
        list(candidate.roc_fpr), list(candidate.roc_tpr), list(candidate.roc_thresholds)
    )
    classification.log_confusion_matrix(
        list(candidate.confusion_categories), [list(row) for row in candidate.confusion_matrix]
    )
    return outcome.verdict.blessed
