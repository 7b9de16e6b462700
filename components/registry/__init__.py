"""Model registry on ML Metadata: versions of a registered model, their stages and every stage change.

A version is the ``ModelVersion`` artifact the pipeline's register step outputs, so its whole lineage
(register ← evaluate ← train ← validate ← statistics ← ingest) stays in the lineage store; the registry adds
the version name, the stage and the stage history. Never imports kfp. See README.md.

Example:
    >>> from components.lineage import open_store
    >>> from components.registry import ModelRegistry
    >>> with open_store("sqlite:///.mlops/metadata.sqlite") as store:
    ...     registry = ModelRegistry(store, lock_path=Path(".mlops/registry.lock"), actor="cli")
    ...     registry.rollback(reason="AUC dropped on live traffic")
"""

from components.registry.lock import WriterLock
from components.registry.records import (
    MODEL_VERSION_TYPE,
    REGISTERED_MODEL_TYPE,
    STAGE_TRANSITION_TYPE,
    ModelVersion,
    Transition,
    version_properties,
)
from components.registry.registry import ModelRegistry
from components.registry.stages import ALLOWED, Stage, parse_stage

__all__ = [
    "ALLOWED",
    "MODEL_VERSION_TYPE",
    "REGISTERED_MODEL_TYPE",
    "STAGE_TRANSITION_TYPE",
    "ModelRegistry",
    "ModelVersion",
    "Stage",
    "Transition",
    "WriterLock",
    "parse_stage",
    "version_properties",
]
