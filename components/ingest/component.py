"""KFP step: materialise the batch a run consumes, from the default data or a user's file."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def ingest(
    months: list,
    data_file: str,
    feature_repo: str,
    features_venv: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    request_id: str,
    trigger: str,
    batch: dsl.Output[dsl.Dataset],
) -> None:
    """Writes one batch in the data contract: months of 2013 with their features from the feature store in
    ``feature_repo`` (a private store built in the step when ""), or a copy of ``data_file`` when given."""
    from pathlib import Path

    from components.ingest.step import as_months, feature_store, materialise_batch
    from components.lineage import recorded_step

    parameters = {
        "months": ",".join(str(month) for month in as_months(months)),
        "data_file": data_file,
        "feature_repo": feature_repo,
        "request_id": request_id,
        "trigger": trigger,
    }
    source = {"source": ("Dataset", str(Path(data_file).resolve()))} if data_file else {}
    with recorded_step(
        "ingest", metadata_uri, run_id, pipeline, code_version, parameters=parameters, inputs=source
    ) as step:
        summary = materialise_batch(
            Path(batch.path),
            months=as_months(months),
            data_file=data_file,
            features=feature_store(feature_repo, features_venv),
        )
        step.add_output("batch", "Dataset", uri=batch.uri, properties=summary.as_properties())
    batch.metadata.update(summary.as_properties())
