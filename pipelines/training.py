"""The continuous-training pipeline, one KFP v2 spec for kfp.local and for a cluster.

kfp 2.13's local runner rejects ``dsl.If``/``ParallelFor``/``ExitHandler``, so decisions are expressed
as steps: a gate step fails the run on bad data; the blessing decides the stage that is registered.

The new batch (``eval_month`` of the default data, or the user's ``data_file``) is validated against the
curated schema and, for drift, against the ``previous_month``; the model trains on ``train_months`` and
is evaluated on the new batch, which is later in time than everything it learnt from.
"""

from kfp import dsl

from components.gate.component import gate
from components.ingest.component import ingest
from components.statistics.component import statistics
from components.validation.component import validate

PIPELINE_NAME = "continuous-training"
DEFAULT_TRAIN_MONTHS = [1, 2, 3, 4, 5, 6]


@dsl.pipeline(
    name=PIPELINE_NAME, description="Validate a batch of flights, train, evaluate, bless, register."
)
def continuous_training(
    metadata_uri: str,
    code_version: str = "unknown",
    request_id: str = "",
    trigger: str = "on-demand",
    train_months: list = DEFAULT_TRAIN_MONTHS,
    eval_month: int = 7,
    previous_month: int = 6,
    data_file: str = "",
) -> None:
    """Runs the loop on the default data, or on a user's ``data_file`` as the new batch.

    Args:
        metadata_uri: ML Metadata store of the lineage (``sqlite:///...`` locally, ``mysql://...``).
        code_version: Git commit locally, image digest in the cluster; recorded with every step.
        request_id: Caller's identifier of this run, recorded on the run so the caller can find it.
        trigger: Why the run started (on-demand, schedule, new-data, drift, degradation).
        train_months: Months of 2013 the model learns from.
        eval_month: Month of 2013 that is the new batch when no ``data_file`` is given.
        previous_month: Month of 2013 the new batch is compared with for drift.
        data_file: A batch in the data contract (CSV or Parquet) that is the new batch.
    """
    lineage = {
        "metadata_uri": metadata_uri,
        "run_id": dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        "pipeline": PIPELINE_NAME,
        "code_version": code_version,
    }
    new_batch = ingest(
        months=[eval_month], data_file=data_file, request_id=request_id, trigger=trigger, **lineage
    ).set_display_name("ingest new batch")
    previous_batch = ingest(
        months=[previous_month], data_file="", request_id=request_id, trigger=trigger, **lineage
    ).set_display_name("ingest previous batch")
    new_stats = statistics(batch=new_batch.outputs["batch"], title="New batch", **lineage).set_display_name(
        "statistics of new batch"
    )
    previous_stats = statistics(
        batch=previous_batch.outputs["batch"], title="Previous batch", **lineage
    ).set_display_name("statistics of previous batch")
    validation = validate(
        stats=new_stats.outputs["stats"],
        previous_stats=previous_stats.outputs["stats"],
        batch_name="new batch",
        **lineage,
    ).set_display_name("validate new batch")
    gate(report=validation.outputs["report"], **lineage).set_display_name("data gate")
