"""The store's vocabulary: type names, property keys, and idempotent type registration.

Every writer registers the types it needs before writing. Registration allows both added and omitted
fields, so a component image built from an older or newer version of this package (or another tool that
registered e.g. ``Dataset`` with properties of its own) can share the store without a schema clash.
"""

from __future__ import annotations

from collections.abc import Callable

from ml_metadata.metadata_store.metadata_store import MetadataStore

from components.lineage._mlmd import Proto, pb2

EXECUTION_TYPE = "ComponentExecution"
RUN_CONTEXT_TYPE = "PipelineRun"
PIPELINE_CONTEXT_TYPE = "Pipeline"

# Execution properties; parameters go to custom properties, so a parameter may reuse any of these names.
COMPONENT = "component"
VERSION = "version"
STARTED = "started"
ENDED = "ended"
DURATION = "duration_seconds"
ERROR = "error_message"

# Run context property.
PIPELINE = "pipeline"


def _execution_type() -> Proto:
    execution_type = pb2.ExecutionType(name=EXECUTION_TYPE)
    for key in (COMPONENT, VERSION, STARTED, ENDED, ERROR):
        execution_type.properties[key] = pb2.STRING
    execution_type.properties[DURATION] = pb2.DOUBLE
    return execution_type


def _run_context_type() -> Proto:
    context_type = pb2.ContextType(name=RUN_CONTEXT_TYPE)
    context_type.properties[PIPELINE] = pb2.STRING
    return context_type


class TypeRegistry:
    """Registers types on first use and remembers their ids, so each is registered once per connection."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}

    def execution_type(self, store: MetadataStore) -> int:
        """Returns the id of the component execution type, registering it if needed."""
        return self._id(("execution", EXECUTION_TYPE), store.put_execution_type, _execution_type)

    def run_context_type(self, store: MetadataStore) -> int:
        """Returns the id of the pipeline run context type, registering it if needed."""
        return self._id(("context", RUN_CONTEXT_TYPE), store.put_context_type, _run_context_type)

    def pipeline_context_type(self, store: MetadataStore) -> int:
        """Returns the id of the pipeline context type, registering it if needed."""
        return self._id(
            ("context", PIPELINE_CONTEXT_TYPE),
            store.put_context_type,
            lambda: pb2.ContextType(name=PIPELINE_CONTEXT_TYPE),
        )

    def action_type(self, store: MetadataStore, name: str) -> int:
        """Returns the id of the action (non-component execution) type ``name``, registering it if needed.

        Action types declare no properties: an action's facts go to custom properties, so each caller
        shapes its own without a schema migration.
        """
        return self._id(("execution", name), store.put_execution_type, lambda: pb2.ExecutionType(name=name))

    def context_type(self, store: MetadataStore, name: str) -> int:
        """Returns the id of the context type ``name``, registering it (with no properties) if needed."""
        return self._id(("context", name), store.put_context_type, lambda: pb2.ContextType(name=name))

    def artifact_type(self, store: MetadataStore, name: str) -> int:
        """Returns the id of the artifact type ``name``, registering it if needed."""
        return self._id(("artifact", name), store.put_artifact_type, lambda: pb2.ArtifactType(name=name))

    def _id(self, key: tuple[str, str], put: Callable[..., int], build: Callable[[], Proto]) -> int:
        if key not in self._ids:
            self._ids[key] = put(build(), can_add_fields=True, can_omit_fields=True)
        return self._ids[key]
