"""KFP step: materialise the feature store's online store up to an instant, incrementally."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def materialize_features(
    end: str,
    feature_repo: str,
    features_venv: str,
    request_id: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    report: dsl.Output[dsl.Markdown],
) -> str:
    """Returns the instant the online store now holds values up to (ISO 8601, UTC)."""
    from datetime import UTC, datetime
    from pathlib import Path

    from components.features.step import materialize_step
    from components.lineage import recorded_step

    until = datetime.fromisoformat(end)
    until = until.replace(tzinfo=UTC) if until.tzinfo is None else until
    parameters = {
        "end": until.isoformat(),
        "feature_repo": feature_repo,
        "features_venv": features_venv,
        "request_id": request_id,
    }
    with recorded_step(
        "materialize-features", metadata_uri, run_id, pipeline, code_version, parameters=parameters
    ) as step:
        outcome = materialize_step(
            Path(feature_repo), until, venv=Path(features_venv) if features_venv else None
        )
        loaded = [name for name, window in outcome.result["windows"].items() if window is not None]
        step.add_output(
            "feature_store",
            "FeatureStore",
            uri=feature_repo,
            properties={
                "materialized_until": until.isoformat(),
                "views_loaded": ",".join(loaded),
                "applied": outcome.applied,
                "seconds": float(outcome.result["seconds"]),
            },
        )
        Path(report.path).write_text(outcome.to_markdown(), encoding="utf-8")
    return until.isoformat()
