"""The project's one exception root and its families.

Third-party errors (pandas, TFDV, ML Metadata, Keras, HTTP clients) are translated at the boundary where
they happen, with ``raise ... from exc``, so callers only ever catch ``MlopsError``.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(MlopsError):
    """Configuration that is missing, malformed or contradictory."""


class DataContractError(MlopsError):
    """A data batch that cannot be read or does not follow the data contract."""


class TimeOrderError(DataContractError):
    """A batch a model would be judged on that is not later than everything it learnt from: judging a
    model on rows it trained on inflates its metrics and makes its blessing meaningless."""


class LineageError(MlopsError):
    """The lineage store (ML Metadata) could not be opened, written or read."""


class RegistryError(MlopsError):
    """A model registry operation that is refused or cannot complete.

    Refused: an unknown version, a forbidden stage change, nothing to roll back to. Cannot complete: the
    writer lock stays taken past the timeout, or concurrent writers keep winning the race.
    """


class RolloutError(MlopsError):
    """An online rollout that cannot be rendered, started, driven or analysed as asked.

    Rendering refuses invalid names, weights or manifests; the controller refuses a second rollout, an
    unknown one, or a candidate the registry will not put on traffic; an actuator reports a deployment
    it cannot read or change.
    """


class ValidationError(MlopsError):
    """Statistics, a schema or an anomalies artifact that cannot be computed, read or written."""


class DataValidationHalt(ValidationError):
    """Bad data: the gate stops the run before training; the message names every anomaly."""


class TrainingError(MlopsError):
    """A model that cannot be trained, does not converge, or is numerically unsound (NaN/Inf)."""


class ModelContractError(MlopsError):
    """A model artifact that breaks its documented contract: a vocabulary the model's lookup would refuse,
    or a TFLite core whose description is incomplete or disagrees with the model."""


class EvaluationError(MlopsError):
    """A model that cannot be evaluated, or evaluation results and thresholds that cannot be read."""


class DeploymentError(MlopsError):
    """A cluster step that cannot complete: Kubeflow Pipelines unreachable, an upload or run refused, a
    run that failed or did not finish in time. The message says what to do next."""


class MonitoringError(MlopsError):
    """Production monitoring that cannot judge: unreadable request logs or feedback, a model version
    without the training statistics or evaluation metrics it is compared with."""


class FeedbackError(MonitoringError):
    """Ground-truth feedback that breaks its format; the message names every bad line, nothing is stored."""


class TriggerError(MlopsError):
    """A retraining trigger that cannot act: another training run of the model holds its lease, the
    trigger policy is malformed, or a retraining window cannot be formed from the data at hand."""


class TrainingBusyError(TriggerError):
    """Another training run of the same model is in progress; the message names its holder."""


class ServingError(MlopsError):
    """A model that cannot be served, or a prediction request that cannot be answered.

    Attributes:
        status_code: The HTTP status a server answers with; 4xx means the client must change the request.
        reason: A short machine-readable code carried in the error body.
    """

    status_code: int = 500
    reason: str = "SERVING_ERROR"

    def __init__(self, message: str, *, status_code: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if reason is not None:
            self.reason = reason


class BadRequestError(ServingError):
    """A request that breaks the serving contract (shape, type, range, category); never retried as-is."""

    status_code = 400
    reason = "BAD_REQUEST"


class ModelUnavailableError(ServingError):
    """A model folder that is missing, malformed, or does not match its serving schema."""

    status_code = 503
    reason = "MODEL_UNAVAILABLE"


class ServerProcessError(ServingError):
    """A local server process (model server, router) that cannot be started, does not become healthy, or
    cannot be stopped."""

    status_code = 503
    reason = "SERVER_PROCESS"


class FeatureStoreError(MlopsError):
    """The feature store cannot be built, materialised or read, or its feature server cannot be reached."""
