"""The feature-materialisation pipeline: one step that loads the online store up to an instant.

A cluster runs it on a schedule (a recurring run of its compiled spec); ``mlops features materialize``
runs the same spec on this machine through ``kfp.local``. Each run continues where the previous one
ended, so a schedule of any period keeps the online store as fresh as the offline rows.
"""

from kfp import dsl

from components.features.component import materialize_features
from contracts.feature_catalog import END_OF_DATA

PIPELINE_NAME = "feature-materialization"


@dsl.pipeline(name=PIPELINE_NAME, description="Load the feature store's online store, incrementally.")
def feature_materialization(
    metadata_uri: str,
    feature_repo: str,
    end: str = END_OF_DATA,
    features_venv: str = "",
    code_version: str = "unknown",
    request_id: str = "",
    registry_lock: str = "",
) -> str:
    """Builds the store when ``feature_repo`` holds none, then materialises every view up to ``end``.

    Args:
        metadata_uri: ML Metadata store the step records itself in.
        feature_repo: Folder of the rendered Feast repository (``.mlops/features`` locally).
        end: ISO 8601 instant, UTC, the online store is loaded up to.
        features_venv: The features environment ("" for ``MLOPS_FEATURES_VENV`` or the project's own).
        code_version: Git commit locally, image digest in the cluster.
        request_id: Caller's identifier of this run, recorded by the step so the caller can find it.
        registry_lock: Unused: the local runner passes every pipeline the same settings.
    """
    step = materialize_features(
        end=end,
        feature_repo=feature_repo,
        features_venv=features_venv,
        request_id=request_id,
        metadata_uri=metadata_uri,
        run_id=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        pipeline=PIPELINE_NAME,
        code_version=code_version,
    ).set_display_name("materialise features")
    return step.outputs["Output"]
