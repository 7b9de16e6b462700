"""KFP step: train the delay model on an approved batch and export it for serving."""

from kfp import dsl

from components.images import pipeline_image


@dsl.component(base_image=pipeline_image(), install_kfp_package=False)
def train(
    batch: dsl.Input[dsl.Dataset],
    train_approval: dsl.Input[dsl.Artifact],
    time_order_approval: dsl.Input[dsl.Artifact],
    learning_rate: float,
    epochs: int,
    batch_size: int,
    hidden_units: list,
    embedding_dim: int,
    dropout: float,
    seed: int,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    model: dsl.Output[dsl.Model],
) -> None:
    """Trains only behind the training batch's gate and the time-order check, which itself runs behind the
    new batch's gate: their approvals are inputs, so lineage shows them upstream."""
    from pathlib import Path

    from components.lineage import recorded_step
    from components.train.hyperparameters import HyperParameters
    from components.train.step import train_step

    hyperparameters = HyperParameters(
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        hidden_units=tuple(int(float(units)) for units in hidden_units),
        embedding_dim=embedding_dim,
        dropout=dropout,
        seed=seed,
    )
    parameters = {key: str(value) for key, value in hyperparameters.to_dict().items()}
    inputs = {
        "batch": ("Dataset", batch.uri),
        "train_approval": ("DataApproval", train_approval.uri),
        "time_order_approval": ("TimeOrderApproval", time_order_approval.uri),
    }
    with recorded_step(
        "train", metadata_uri, run_id, pipeline, code_version, parameters=parameters, inputs=inputs
    ) as step:
        metadata = train_step(Path(batch.path), Path(model.path), hyperparameters)
        properties = {
            "validation_auc": round(metadata.validation["auc"], 6),
            "decision_threshold": round(metadata.decision_threshold, 6),
            "epochs_run": len(metadata.history.get("loss", [])),
            "training_seconds": round(metadata.training_seconds, 3),
        }
        step.add_output("model", "Model", uri=model.uri, properties=properties)
    model.metadata.update(properties)
