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

    from components.lineage import open_store
    from components.register.step import combine_blessing, first_stage, promotes
    from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties

    blessing = combine_blessing(Path(evaluation.path), Path(infra.path))
    with open_store(metadata_uri) as store:
        with store.execution(
            run_id=run_id,
            pipeline=pipeline,
            component="register",
            version=code_version,
            parameters={"model_name": model_name, "promotion": promotion, "trigger": trigger},
        ) as step:
            step.add_input("model", "Model", uri=model.uri)
            step.add_input("evaluation", "Evaluation", uri=evaluation.uri)
            step.add_input("infra", "InfraValidation", uri=infra.uri)
            properties = version_properties(
                metrics=blessing.metrics, blessed=blessing.blessed, checks=blessing.checks
            )
            step.add_output("model_version", MODEL_VERSION_TYPE, uri=model.uri, properties=properties)
        registry = ModelRegistry(
            store,
            model_name=model_name,
            lock_path=Path(registry_lock) if registry_lock else None,
            actor="pipeline",
        )
        version = registry.register(
            step.record.outputs[0].id, stage=first_stage(promotion), reason=f"trigger={trigger}"
        )
        if promotes(promotion, blessing):
            version = registry.promote(version.version, reason=f"blessed by run {run_id}")
    outcome = {
        "version": version.version,
        "stage": str(version.stage),
        "blessed": blessing.blessed,
        "failed_checks": blessing.failed,
    }
    Path(summary.path).write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    summary.metadata.update(outcome)
    return f"{version.version}:{version.stage}"
