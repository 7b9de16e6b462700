"""Steps forked from the warm step server: each a process of its own, with the run's environment, output and
exit code, and nothing left running when the run's process ends."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from kfp import dsl, local

from pipelines.forked_steps import forked_steps, lightweight_step
from pipelines.step_server import modules_imported_by

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def describe_process(marker: str, report: dsl.Output[dsl.Artifact]) -> int:
    import json
    import os
    import sys

    with open(report.path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "marker": marker,
                "variable": os.environ.get("FORKED_STEPS_TEST"),
                "cwd": os.getcwd(),
                "pandas_already_imported": "pandas" in sys.modules,
            },
            out,
        )
    print(f"described {marker}")
    return os.getpid()


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def fail_with(message: str) -> None:
    raise ValueError(message)


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def wait_forever(pid_file: str) -> None:
    import os
    import time

    with open(pid_file, "w", encoding="utf-8") as out:
        out.write(str(os.getpid()))
    time.sleep(600)


@dsl.pipeline(name="two-steps")
def two_steps() -> None:
    first = describe_process(marker="first")
    describe_process(marker="second").after(first)


def _init(tmp_path: Path) -> None:
    local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path), raise_on_error=True
    )


def _reports(root: Path) -> list[dict[str, object]]:
    found = [json.loads(path.read_text()) for path in root.rglob("report")]
    return sorted(found, key=lambda report: str(report["marker"]))


def test_each_step_is_a_child_of_the_server_with_the_runs_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(tmp_path)
    with forked_steps() as server:
        # Set after the server started: each step must still see the run's environment as it is now.
        monkeypatch.setenv("FORKED_STEPS_TEST", "set-late")
        two_steps()
    first, second = _reports(tmp_path)
    assert [first["marker"], second["marker"]] == ["first", "second"]
    assert first["ppid"] == second["ppid"] == server.process.pid
    assert len({first["pid"], second["pid"], os.getpid(), server.process.pid}) == 4
    assert first["variable"] == second["variable"] == "set-late"
    assert first["cwd"] == os.getcwd()
    assert server.process.poll() is not None, "the server outlived its run"
    output = capsys.readouterr().out
    assert "described first" in output and "described second" in output


def test_the_server_imports_what_a_step_imports_before_forking_it(tmp_path: Path) -> None:
    @dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
    def with_pandas(report: dsl.Output[dsl.Artifact]) -> None:
        import json
        import sys

        already = "pandas" in sys.modules  # before this step's own import runs
        import pandas  # noqa: F401

        with open(report.path, "w", encoding="utf-8") as out:
            json.dump({"marker": "pandas", "pandas_already_imported": already}, out)

    _init(tmp_path)
    with forked_steps():
        with_pandas()
    (report,) = _reports(tmp_path)
    assert report["pandas_already_imported"] is True


def test_a_failing_step_fails_the_run_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(tmp_path)
    with forked_steps(), pytest.raises(RuntimeError, match="fail-with"):
        fail_with(message="the batch is not a batch")
    assert "ValueError: the batch is not a batch" in capsys.readouterr().out


def test_nothing_outlives_a_killed_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "step.pid"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(PROJECT_ROOT)!r}, {str(Path(__file__).parent)!r}]
        from kfp import local
        from pipelines.forked_steps import forked_steps
        from test_forked_steps import wait_forever
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path)!r})
        with forked_steps() as server:
            print(server.process.pid, flush=True)
            wait_forever(pid_file={str(pid_file)!r})
        """
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert run.stdout is not None
        server_pid = int(run.stdout.readline())
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        step_pid = int(pid_file.read_text())
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (_alive(server_pid) or _alive(step_pid)):
            time.sleep(0.05)
        assert not _alive(server_pid), "the step server outlived the run that started it"
        assert not _alive(step_pid), "the step outlived the run that started it"
    finally:
        if run.poll() is None:
            run.kill()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has ended; only its exit status is left


def test_only_kfps_lightweight_component_command_is_forked() -> None:
    script = (
        'printf "%s" "$0" > "$program_path/ephemeral_component.py"\npython3 -m kfp.dsl.executor_main "$@"'
    )
    step = lightweight_step(["sh", "-ec", script, "def f(): pass", "--executor_input", "{}"])
    assert step is not None
    assert (step.source, step.args) == ("def f(): pass", ["--executor_input", "{}"])
    assert lightweight_step(["python3", "-m", "kfp.dsl.executor_main", "--executor_input", "{}"]) is None
    assert lightweight_step(["sh", "-ec", "echo hello", "source"]) is None


def test_the_modules_a_step_imports_are_read_from_its_source() -> None:
    source = textwrap.dedent(
        """
        import kfp
        from kfp import dsl

        def step():
            import json, os.path
            from components.ingest.step import materialise_batch
            from . import relative_is_skipped
            from kfp import dsl
        """
    )
    assert modules_imported_by(source) == ["kfp", "json", "os.path", "components.ingest.step"]
