"""One execution written to a fresh SQLite store, read back through MLMD itself and through our readers."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as _untyped_pb2

from components.lineage import ArtifactSpec, ExecutionState, LineageStore, SqliteConfig, open_store
from contracts.errors import LineageError

# The generated proto module has no type stubs; Any keeps mypy from flagging every message class.
metadata_store_pb2: Any = _untyped_pb2

STARTED = datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=UTC)
ENDED = STARTED + timedelta(seconds=2.5)


def _record_statistics(store: LineageStore) -> int:
    record = store.record_execution(
        run_id="run-1",
        pipeline="continuous-training",
        component="statistics",
        version="abc123",
        started=STARTED,
        ended=ENDED,
        parameters={"month": 7, "sample_rate": 0.5, "slice": "EWR", "drop_nulls": True},
        inputs=[ArtifactSpec("examples", "Dataset", "/data/2013-07.parquet", {"rows": 27000})],
        outputs=[
            ArtifactSpec("statistics", "Statistics", "/out/stats.pb", {"num_examples": 123}),
            ArtifactSpec("report", "HTML", "/out/stats.html"),
        ],
    )
    return record.id


def _raw_store(path: Path) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    return metadata_store.MetadataStore(config)


def test_execution_round_trips_through_mlmd_api(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "metadata.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        execution_id = _record_statistics(store)
    assert path.is_file()

    mlmd = _raw_store(path)
    [execution] = mlmd.get_executions_by_id([execution_id])
    assert execution.type == "ComponentExecution"
    assert execution.last_known_state == metadata_store_pb2.Execution.COMPLETE
    assert execution.properties["component"].string_value == "statistics"
    assert execution.properties["version"].string_value == "abc123"
    assert execution.properties["started"].string_value == "2026-11-27T08:00:00.123456+00:00"
    assert execution.properties["duration_seconds"].double_value == 2.5
    assert execution.custom_properties["month"].int_value == 7
    assert execution.custom_properties["sample_rate"].double_value == 0.5
    assert execution.custom_properties["slice"].string_value == "EWR"
    assert execution.custom_properties["drop_nulls"].bool_value is True

    events = mlmd.get_events_by_execution_ids([execution_id])
    by_name = {e.path.steps[0].key: e for e in events}
    assert sorted(by_name) == ["examples", "report", "statistics"]
    assert by_name["examples"].type == metadata_store_pb2.Event.INPUT
    assert by_name["statistics"].type == metadata_store_pb2.Event.OUTPUT
    [stats] = mlmd.get_artifacts_by_id([by_name["statistics"].artifact_id])
    assert (stats.type, stats.uri) == ("Statistics", "/out/stats.pb")
    assert stats.custom_properties["num_examples"].int_value == 123

    [run] = mlmd.get_contexts_by_type("PipelineRun")
    assert run.name == "run-1"
    assert run.properties["pipeline"].string_value == "continuous-training"
    assert [x.id for x in mlmd.get_executions_by_context(run.id)] == [execution_id]
    assert len(mlmd.get_artifacts_by_context(run.id)) == 3
    [pipeline] = mlmd.get_parent_contexts_by_context(run.id)
    assert (pipeline.type, pipeline.name) == ("Pipeline", "continuous-training")


def test_execution_round_trips_through_our_readers(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        _record_statistics(store)
        [run] = store.list_runs()
        [record] = store.executions_of_run("run-1")

    assert (run.run_id, run.pipeline) == ("run-1", "continuous-training")
    assert (record.component, record.version, record.run_id, record.pipeline) == (
        "statistics",
        "abc123",
        "run-1",
        "continuous-training",
    )
    assert record.state is ExecutionState.COMPLETE
    assert (record.started, record.ended, record.duration_seconds) == (STARTED, ENDED, 2.5)
    assert record.parameters == {"month": 7, "sample_rate": 0.5, "slice": "EWR", "drop_nulls": True}
    assert isinstance(record.parameters["drop_nulls"], bool)
    assert record.error_message is None
    assert [(a.name, a.type, a.uri, dict(a.properties)) for a in record.inputs] == [
        ("examples", "Dataset", "/data/2013-07.parquet", {"rows": 27000})
    ]
    assert [(a.name, a.type, a.uri) for a in record.outputs] == [
        ("statistics", "Statistics", "/out/stats.pb"),
        ("report", "HTML", "/out/stats.html"),
    ]
    as_json = json.loads(json.dumps(record.to_dict()))
    assert as_json["started"] == "2026-11-27T08:00:00.123456+00:00"
    assert as_json["outputs"][0]["properties"] == {"num_examples": 123}
    assert as_json["state"] == "COMPLETE"


def test_context_manager_records_timings_and_outputs(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        before = datetime.now(UTC)
        with store.execution(
            run_id="run-1", pipeline="ct", component="schema", version="abc123", parameters={"month": 7}
        ) as ex:
            ex.add_input("statistics", "Statistics", uri="/out/stats.pb")
            ex.add_output("schema", "Schema", uri="/out/schema.pbtxt", properties={"features": 12})
        after = datetime.now(UTC)
        [stored] = store.executions_of_run("run-1")

    assert stored == ex.record
    assert stored.state is ExecutionState.COMPLETE
    assert before <= stored.started <= stored.ended <= after
    assert stored.duration_seconds == pytest.approx((stored.ended - stored.started).total_seconds(), abs=1e-6)
    assert stored.outputs[0].properties == {"features": 12}


def test_failed_execution_is_recorded_with_its_message_and_the_error_propagates(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        with (
            pytest.raises(ValueError, match="no rows for month 13"),
            store.execution(run_id="run-2", pipeline="ct", component="ingest", version="abc123") as ex,
        ):
            ex.add_input("raw", "Dataset", uri="/data/flights.csv")
            raise ValueError("no rows for month 13")
        [failed] = store.executions_of_run("run-2")

    assert failed.state is ExecutionState.FAILED
    assert failed.error_message == "ValueError: no rows for month 13"
    assert [a.name for a in failed.inputs] == ["raw"]


def test_outputs_of_a_failed_step_are_not_reused_downstream(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        with (
            pytest.raises(RuntimeError),
            store.execution(run_id="r", pipeline="ct", component="train", version="v") as failed,
        ):
            failed.add_output("model", "Model", uri="/out/model")
            raise RuntimeError("out of memory")
        with store.execution(run_id="r", pipeline="ct", component="evaluate", version="v") as evaluate:
            evaluate.add_input("model", "Model", uri="/out/model")

    assert evaluate.record.inputs[0].id != failed.record.outputs[0].id


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"started": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"ended": STARTED - timedelta(seconds=1)}, "before started"),
        ({"component": ""}, "component must be a non-empty string"),
        ({"parameters": {"when": datetime(2026, 1, 1)}}, "'when': datetime is not storable"),
        ({"parameters": {"huge": 2**64}}, "64-bit"),
        ({"inputs": [ArtifactSpec("x", "Dataset", "/a"), ArtifactSpec("x", "Dataset", "/b")]}, "used twice"),
        ({"outputs": [ArtifactSpec("x", "Model", "")]}, "output uri"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(
    tmp_path: Path, changes: dict[str, object], complaint: str
) -> None:
    arguments: dict[str, object] = {
        "run_id": "run-1",
        "pipeline": "ct",
        "component": "c",
        "version": "v",
        "started": STARTED,
        "ended": ENDED,
    }
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        with pytest.raises(LineageError, match=complaint):
            store.record_execution(**{**arguments, **changes})  # type: ignore[arg-type]
        assert store.list_runs() == []


def test_a_run_cannot_change_pipeline(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        store.record_execution(
            run_id="r", pipeline="a", component="c", version="v", started=STARTED, ended=ENDED
        )
        with pytest.raises(LineageError, match="belongs to pipeline 'a', not 'b'"):
            store.record_execution(
                run_id="r", pipeline="b", component="c", version="v", started=STARTED, ended=ENDED
            )


def test_closed_store_refuses_calls_and_unknown_ids_are_errors(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/m.sqlite")
    with pytest.raises(LineageError, match="no pipeline run 'nope'"):
        store.executions_of_run("nope")
    with pytest.raises(LineageError, match="no artifact with id 42"):
        store.upstream(42)
    store.close()
    store.close()
    with pytest.raises(LineageError, match="closed"):
        store.list_runs()


def test_unopenable_store_is_a_lineage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LineageError, match="cannot create the folder"):
        open_store(f"sqlite:///{blocker}/m.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LineageError, match="ML Metadata failed while opening"):
        LineageStore(SqliteConfig(garbage))


def test_unreachable_grpc_server_is_a_lineage_error() -> None:
    # A port just released by the OS has no listener, so the connection is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open_store(f"grpc://127.0.0.1:{port}") as store, pytest.raises(LineageError, match="listing runs"):
        store.list_runs()
