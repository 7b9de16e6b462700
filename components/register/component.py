"""KFP step: register the candidate as a new version; blessed versions go to production, others are rejected
(an experiment's runs stay candidates until they are promoted)."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def register(
    model: dsl.Input[dsl.Model],
    evaluation: dsl.Input[dsl.Artifact],
    infra: dsl.Input[dsl.Artifact],
    model_name: str,
    promotion: str,
    registry_lock: str,
    trigger: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    summary: dsl.Output[dsl.Artifact],
) -> str:
    """Returns ``VERSION:STAGE``. A version that is not blessed is recorded as rejected and never served."""
    import json
    from pathlib import Path

    from components.lineage import recorded_step
    from components.register.step import combine_blessing, register_version, registration_outcome
    from components.registry import MODEL_VERSION_TYPE, version_properties

    blessing = combine_blessing(Path(evaluation.path), Path(infra.path))
    inputs = {
        "model": ("Model", model.uri),
        "evaluation": ("Evaluation", evaluation.uri),
        "infra": ("InfraValidation", infra.uri),
    }
    with recorded_step(
        "register",
        metadata_uri,
        run_id,
        pipeline,
        code_version,
        parameters={"model_name": model_name, "promotion": promotion, "trigger": trigger},
        inputs=inputs,
    ) as step:
        properties = version_properties(
            metrics=blessing.metrics, blessed=blessing.blessed, checks=blessing.checks
        )
        step.add_output("model_version", MODEL_VERSION_TYPE, uri=model.uri, properties=properties)
    version = register_version(
        metadata_uri,
        model_version_id=step.record.outputs[0].id,
        model_name=model_name,
        promotion=promotion,
        blessing=blessing,
        registry_lock=Path(registry_lock) if registry_lock else None,
        trigger=trigger,
        run_id=run_id,
    )
    outcome = registration_outcome(version, blessing)
    Path(summary.path).write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    summary.metadata.update(outcome)
    return f"{version.version}:{version.stage}"
