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

    from components.lineage import open_store
    from components.time_order.step import check_batches

    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id, pipeline=pipeline, component="time-order", version=code_version
        ) as execution,
    ):
        execution.add_input("train_batch", "Dataset", uri=train_batch.uri)
        execution.add_input("new_batch", "Dataset", uri=new_batch.uri)
        execution.add_input("new_batch_approval", "DataApproval", uri=new_batch_approval.uri)
        properties = check_batches(Path(train_batch.path), Path(new_batch.path))
        Path(approval.path).write_text("in order", encoding="utf-8")
        execution.add_output("approval", "TimeOrderApproval", uri=approval.uri, properties=properties)
    approval.metadata.update(properties)
