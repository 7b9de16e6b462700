"""One pipeline step's record in the lineage store: every KFP wrapper records itself the same way.

Example:
    >>> with recorded_step(
    ...     "gate", uri, "run-1", "continuous-training", "abc", inputs={"report": ("ValidationReport", report_uri)}
    ... ) as step:
    ...     verdict = enforce(report)
    ...     step.add_output("approval", "DataApproval", uri=approval_uri, properties={"verdict": verdict})
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from components.lineage.recorder import ExecutionRecorder
from components.lineage.records import PropertyValue
from components.lineage.store import open_store


@contextlib.contextmanager
def recorded_step(
    component: str,
    metadata_uri: str,
    run_id: str,
    pipeline: str,
    code_version: str,
    *,
    parameters: Mapping[str, PropertyValue] | None = None,
    inputs: Mapping[str, tuple[str, str]] | None = None,
) -> Iterator[ExecutionRecorder]:
    """Records the ``with`` block as the execution of ``component`` in run ``run_id``.

    Args:
        component: The step's name in lineage.
        metadata_uri: The lineage store (``sqlite:///…``, ``mysql://…`` or ``grpc://…``).
        run_id: The pipeline run.
        pipeline: The pipeline's name.
        code_version: The step's code version (git sha locally, image digest in a cluster).
        parameters: The step's parameters.
        inputs: The artifacts it reads, by name: ``(artifact type, uri)``.

    Yields:
        The recorder: declare outputs with ``add_output``; ``store`` is the open store. The block ending
        normally records the execution COMPLETE; raising records it FAILED and the error propagates.
    """
    with (
        open_store(metadata_uri) as store,
        store.execution(
            run_id=run_id, pipeline=pipeline, component=component, version=code_version, parameters=parameters
        ) as execution,
    ):
        for name, (artifact_type, uri) in (inputs or {}).items():
            execution.add_input(name, artifact_type, uri=uri)
        yield execution
