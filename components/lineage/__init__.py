"""Lineage store: component executions, their artifacts and pipeline runs, kept in ML Metadata.

Locally the store is a SQLite file, in the cluster a MySQL database or an MLMD gRPC server; the rest of
the project sees only this package's typed records and never ML Metadata's protos.

Example:
    >>> from components.lineage import open_store
    >>> with open_store("sqlite:///.mlops/metadata.sqlite") as store:
    ...     with store.execution(run_id="run-1", pipeline="continuous-training",
    ...                          component="statistics", version="abc123", parameters={"month": 7}) as ex:
    ...         ex.add_input("examples", "Dataset", uri="/data/2013-07.parquet")
    ...         ex.add_output("statistics", "Statistics", uri="/out/stats.pb")
    ...     chain = store.upstream(ex.record.outputs[0].id)
"""

from components.lineage.config import (
    DEFAULT_METADATA_URI,
    GrpcConfig,
    MysqlConfig,
    SqliteConfig,
    StoreConfig,
    parse_metadata_uri,
)
from components.lineage.recorder import ExecutionRecorder
from components.lineage.records import (
    ActionRecord,
    ActionSpec,
    ArtifactRecord,
    ArtifactSpec,
    ContextRecord,
    ExecutionRecord,
    ExecutionState,
    PropertyValue,
    RunRecord,
)
from components.lineage.step import recorded_step
from components.lineage.store import LineageStore, open_store

__all__ = [
    "DEFAULT_METADATA_URI",
    "ActionRecord",
    "ActionSpec",
    "ArtifactRecord",
    "ArtifactSpec",
    "ContextRecord",
    "ExecutionRecord",
    "ExecutionRecorder",
    "ExecutionState",
    "GrpcConfig",
    "LineageStore",
    "MysqlConfig",
    "PropertyValue",
    "RunRecord",
    "SqliteConfig",
    "StoreConfig",
    "open_store",
    "parse_metadata_uri",
    "recorded_step",
]
