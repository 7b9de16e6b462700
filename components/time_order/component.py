"""KFP step: fail the run before training when the new batch is not later than the training batch."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def time_order(
    train_batch: dsl.Input[dsl.Dataset],
    new_batch: dsl.Input[dsl.Dataset],
    new_batch_approval: dsl.Input[dsl.Artifact],
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    approval: dsl.Output[dsl.Artifact],
) -> None:
    """Runs after the new batch's gate (malformed dates are the gate's to name), before training."""
    from pathlib import Path

    from components.lineage import recorded_step
    from components.time_order.step import check_batches

    inputs = {
        "train_batch": ("Dataset", train_batch.uri),
        "new_batch": ("Dataset", new_batch.uri),
        "new_batch_approval": ("DataApproval", new_batch_approval.uri),
    }
    with recorded_step("time-order", metadata_uri, run_id, pipeline, code_version, inputs=inputs) as step:
        properties = check_batches(Path(train_batch.path), Path(new_batch.path))
        Path(approval.path).write_text("in order", encoding="utf-8")
        step.add_output("approval", "TimeOrderApproval", uri=approval.uri, properties=properties)
    approval.metadata.update(properties)
