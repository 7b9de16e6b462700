"""The continuous-training pipeline, one KFP v2 spec for kfp.local and for a cluster.

kfp 2.13's local runner rejects ``dsl.If``/``ParallelFor``/``ExitHandler``, so decisions are expressed
as steps: a gate step fails the run on bad data; the blessing decides the stage that is registered.
"""

from kfp import dsl

from components.ingest.component import ingest

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
    data_file: str = "",
) -> None:
    """Runs the loop on ``train_months`` of the default data, or on a user's ``data_file``.

    Args:
        metadata_uri: ML Metadata store of the lineage (``sqlite:///...`` locally, ``mysql://...``).
        code_version: Git commit locally, image digest in the cluster; recorded with every step.
        request_id: Caller's identifier of this run, recorded on the run so the caller can find it.
        trigger: Why the run started (on-demand, schedule, new-data, drift, degradation).
        train_months: Months of 2013 to train on when no ``data_file`` is given.
        data_file: A batch in the data contract (CSV or Parquet) instead of the default data.
    """
    ingest(
        months=train_months,
        data_file=data_file,
        metadata_uri=metadata_uri,
        run_id=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        pipeline=PIPELINE_NAME,
        code_version=code_version,
        request_id=request_id,
        trigger=trigger,
    ).set_display_name("ingest batch")
