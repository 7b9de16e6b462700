"""Lineage across steps, store objects and processes: shared artifacts, upstream walks, reopening."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from components.lineage import ArtifactSpec, ExecutionRecorder, LineageStore, open_store

REPO = Path(__file__).resolve().parents[2]


def _three_step_run(store: LineageStore, run_id: str = "run-1") -> None:
    def step(component: str) -> ExecutionRecorder:
        return store.execution(
            run_id=run_id,
            pipeline="continuous-training",
            component=component,
            version="abc123",
            parameters={"month": 7},
        )

    with step("ingest") as ingest:
        ingest.add_input("raw", "Dataset", uri="/data/flights.csv")
        ingest.add_output(
            "examples", "Dataset", uri=f"/out/{run_id}/examples.parquet", properties={"rows": 9}
        )
    with step("statistics") as statistics:
        statistics.add_input("examples", "Dataset", uri=f"/out/{run_id}/examples.parquet")
        statistics.add_output("statistics", "Statistics", uri=f"/out/{run_id}/stats.pb")
    with step("unrelated") as unrelated:
        unrelated.add_output("notes", "Markdown", uri=f"/out/{run_id}/notes.md")


def test_steps_share_the_artifact_and_upstream_returns_them_in_order(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        _three_step_run(store)
        ingest, statistics, unrelated = store.executions_of_run("run-1")
        chain = store.upstream(statistics.outputs[0].id)
        examples_upstream = store.upstream(ingest.outputs[0].id)
        raw_upstream = store.upstream(ingest.inputs[0].id)

    assert [e.component for e in (ingest, statistics, unrelated)] == ["ingest", "statistics", "unrelated"]
    assert statistics.inputs[0].id == ingest.outputs[0].id
    assert statistics.inputs[0].properties == {"rows": 9}
    assert [e.component for e in chain] == ["ingest", "statistics"]
    assert [e.id for e in chain] == [ingest.id, statistics.id]
    assert [e.component for e in examples_upstream] == ["ingest"]
    assert raw_upstream == []


def test_artifacts_of_type_are_named_after_their_producing_role(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        _three_step_run(store, "run-1")
        _three_step_run(store, "run-2")
        datasets = store.artifacts_of_type("Dataset")
        assert store.artifacts_of_type("NoSuchType") == []

    assert [(a.name, a.uri) for a in datasets] == [
        ("raw", "/data/flights.csv"),
        ("examples", "/out/run-1/examples.parquet"),
        ("raw", "/data/flights.csv"),
        ("examples", "/out/run-2/examples.parquet"),
    ]


def test_a_new_store_object_on_the_same_file_sees_the_data(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.sqlite"
    with open_store(uri) as first:
        _three_step_run(first)
        written = first.executions_of_run("run-1")
    with open_store(uri) as second:
        assert second.executions_of_run("run-1") == written
        assert [r.run_id for r in second.list_runs()] == ["run-1"]
        _three_step_run(second, "run-2")
    with open_store(uri) as third:
        assert [r.run_id for r in third.list_runs()] == ["run-1", "run-2"]


def test_steps_in_separate_processes_chain_through_one_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/m.sqlite"
    step = textwrap.dedent(
        """
        import sys
        from components.lineage import open_store
        uri, component, source, target = sys.argv[1:]
        with open_store(uri) as store, store.execution(
            run_id="run-1", pipeline="ct", component=component, version="abc123"
        ) as ex:
            ex.add_input("in", "Dataset", uri=source)
            ex.add_output("out", "Dataset", uri=target)
        """
    )
    for component, source, target in [("a", "/raw", "/a"), ("b", "/a", "/b"), ("c", "/b", "/c")]:
        subprocess.run([sys.executable, "-c", step, uri, component, source, target], cwd=REPO, check=True)

    with open_store(uri) as store:
        [c] = [e for e in store.executions_of_run("run-1") if e.component == "c"]
        chain = store.upstream(c.outputs[0].id)
    assert [e.component for e in chain] == ["a", "b", "c"]


def test_upstream_orders_independent_producers_by_start_time(tmp_path: Path) -> None:
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

    def record(component: str, minute: int, inputs: list[ArtifactSpec], outputs: list[ArtifactSpec]) -> None:
        store.record_execution(
            run_id="run-1",
            pipeline="ct",
            component=component,
            version="v",
            started=start + timedelta(minutes=minute),
            ended=start + timedelta(minutes=minute + 1),
            inputs=inputs,
            outputs=outputs,
        )

    with open_store(f"sqlite:///{tmp_path}/m.sqlite") as store:
        # Recorded in the opposite order of their start times, so ids and times disagree.
        record("weather", 5, [], [ArtifactSpec("weather", "Dataset", "/w")])
        record("flights", 1, [], [ArtifactSpec("flights", "Dataset", "/f")])
        record(
            "join",
            9,
            [ArtifactSpec("left", "Dataset", "/f"), ArtifactSpec("right", "Dataset", "/w")],
            [ArtifactSpec("joined", "Dataset", "/j")],
        )
        [joined] = [a for a in store.artifacts_of_type("Dataset") if a.uri == "/j"]
        chain = store.upstream(joined.id)

    assert [e.component for e in chain] == ["flights", "weather", "join"]
