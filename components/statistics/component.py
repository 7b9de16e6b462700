"""KFP step: TFDV statistics of a batch, with an HTML view and a Markdown summary for the dashboard."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def statistics(
    batch: dsl.Input[dsl.Dataset],
    title: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    stats: dsl.Output[dsl.Artifact],
    view: dsl.Output[dsl.HTML],
    summary: dsl.Output[dsl.Markdown],
) -> None:
    """Computes statistics of ``batch``; an unreadable batch is recorded, not failed on."""
    from pathlib import Path

    from components.lineage import open_store
    from components.statistics.step import describe_batch

    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id,
            pipeline=pipeline,
            component="statistics",
            version=code_version,
            parameters={"title": title},
        ) as execution,
    ):
        execution.add_input("batch", "Dataset", uri=batch.uri)
        outcome = describe_batch(
            Path(batch.path), Path(stats.path), Path(view.path), Path(summary.path), title=title
        )
        properties: dict[str, str | int | float] = {"num_examples": outcome.num_examples}
        if outcome.unreadable_reason:
            properties["unreadable"] = outcome.unreadable_reason
        execution.add_output("statistics", "Statistics", uri=stats.uri, properties=properties)
        execution.add_output("view", "HTML", uri=view.uri)
    stats.metadata.update(properties)
