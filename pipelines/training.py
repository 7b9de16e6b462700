"""The continuous-training pipeline, one KFP v2 spec for kfp.local and for a cluster.

kfp 2.13's local runner rejects ``dsl.If``/``ParallelFor``/``ExitHandler``, so decisions are expressed
as steps: a gate step fails the run on bad data; the blessing decides the stage that is registered.

The new batch (``eval_month`` of the default data, or the user's ``data_file``) is validated against the
curated schema and, for drift, against the ``previous_month``; the training batch is validated too. The
model trains on ``train_months`` (or ``train_data_file``) and is evaluated on the new batch, which must be
later in time than everything it learnt from: a time-order step refuses the run before training otherwise,
whatever parameters the run was started with. Every batch of the default data takes its weather, aircraft
and 7-day delay features from the feature store (Feast's point-in-time join at each flight's scheduled
departure hour), the same definitions the serving transformer looks up online.
"""

from kfp import dsl

from components.evaluate.component import evaluate
from components.gate.component import gate
from components.infra_validate.component import infra_validate
from components.ingest.component import ingest
from components.register.component import register
from components.time_order.component import time_order
from components.train.component import train
from components.validation.component import validate
from contracts.names import MODEL_NAME

PIPELINE_NAME = "continuous-training"
DEFAULT_TRAIN_MONTHS = [1, 2, 3, 4, 5, 6]
DEFAULT_HIDDEN_UNITS = [64, 32]


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
    train_data_file: str = "",
    learning_rate: float = 1e-3,
    epochs: int = 8,
    batch_size: int = 1024,
    hidden_units: list = DEFAULT_HIDDEN_UNITS,
    embedding_dim: int = 8,
    dropout: float = 0.1,
    seed: int = 42,
    model_name: str = MODEL_NAME,
    promotion: str = "production",
    registry_lock: str = "",
    infra_budgets_file: str = "",
    serving_venv: str = "",
    feature_repo: str = "",
    features_venv: str = "",
) -> str:
    """Runs the loop and returns the registered ``VERSION:STAGE``.

    Args:
        metadata_uri: ML Metadata store of the lineage and registry (``sqlite:///...``, ``mysql://...``).
        code_version: Git commit locally, image digest in the cluster; recorded with every step.
        request_id: Caller's identifier of this run, recorded on its first steps so the caller can find it.
        trigger: Why the run started (on-demand, schedule, new-data, drift, degradation).
        train_months: Months of 2013 the model learns from, unless ``train_data_file`` is given.
        eval_month: Month of 2013 that is the new batch, unless ``data_file`` is given.
        previous_month: Month of 2013 the new batch is compared with for drift.
        data_file: A batch in the data contract (CSV or Parquet) that is the new batch.
        train_data_file: A batch in the data contract to train on instead of ``train_months``.
        learning_rate: Adam step size.
        epochs: Upper bound on epochs; early stopping usually ends sooner.
        batch_size: Rows per gradient step.
        hidden_units: Widths of the hidden layers.
        embedding_dim: Upper bound on a categorical feature's embedding width.
        dropout: Dropout after each hidden layer.
        seed: Seeds every random choice of training.
        model_name: The registered model the new version belongs to.
        promotion: ``production`` promotes a blessed version at once; ``blessed`` leaves it for a rollout.
        registry_lock: File lock serialising registry writers on one machine ("" for none).
        infra_budgets_file: Infra-validation budgets (TOML); "" for the packaged defaults.
        serving_venv: The serving environment infra validation starts the model server from ("" for the default).
        feature_repo: The feature store the batches' features are looked up in ("" builds one per step).
        features_venv: The features environment that runs Feast ("" for the default).
    """
    lineage = {
        "metadata_uri": metadata_uri,
        "run_id": dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        "pipeline": PIPELINE_NAME,
        "code_version": code_version,
    }
    run = {"request_id": request_id, "trigger": trigger}
    store = {"feature_repo": feature_repo, "features_venv": features_venv}

    previous_batch = ingest(months=[previous_month], data_file="", **store, **run, **lineage)
    previous_batch.set_display_name("ingest previous batch")

    new_batch = ingest(months=[eval_month], data_file=data_file, **store, **run, **lineage)
    new_batch.set_display_name("ingest new batch")
    new_validation = validate(
        batch=new_batch.outputs["batch"],
        previous_batch=previous_batch.outputs["batch"],
        measure_drift=True,
        batch_name="new batch",
        **lineage,
    ).set_display_name("statistics + validation: new batch")
    new_gate = gate(report=new_validation.outputs["report"], **lineage).set_display_name("gate: new batch")

    train_batch = ingest(months=train_months, data_file=train_data_file, **store, **run, **lineage)
    train_batch.set_display_name("ingest training batch")
    train_validation = validate(
        batch=train_batch.outputs["batch"],
        previous_batch=previous_batch.outputs["batch"],
        measure_drift=False,
        batch_name="training batch",
        **lineage,
    ).set_display_name("statistics + validation: training batch")
    train_gate = gate(report=train_validation.outputs["report"], **lineage).set_display_name(
        "gate: training batch"
    )

    in_order = time_order(
        train_batch=train_batch.outputs["batch"],
        new_batch=new_batch.outputs["batch"],
        new_batch_approval=new_gate.outputs["approval"],
        **lineage,
    ).set_display_name("time order: new batch after training batch")

    model = train(
        batch=train_batch.outputs["batch"],
        train_approval=train_gate.outputs["approval"],
        time_order_approval=in_order.outputs["approval"],
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        hidden_units=hidden_units,
        embedding_dim=embedding_dim,
        dropout=dropout,
        seed=seed,
        **lineage,
    ).set_display_name("train")
    evaluation = evaluate(
        model=model.outputs["model"], batch=new_batch.outputs["batch"], model_name=model_name, **lineage
    ).set_display_name("evaluate and bless")
    infra = infra_validate(
        model=model.outputs["model"],
        batch=new_batch.outputs["batch"],
        budgets_file=infra_budgets_file,
        serving_venv=serving_venv,
        **lineage,
    ).set_display_name("infra-validate")
    registered = register(
        model=model.outputs["model"],
        evaluation=evaluation.outputs["evaluation"],
        infra=infra.outputs["infra"],
        model_name=model_name,
        promotion=promotion,
        registry_lock=registry_lock,
        trigger=trigger,
        **lineage,
    ).set_display_name("register")
    return registered.outputs["Output"]
