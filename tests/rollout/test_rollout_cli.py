"""``mlops rollout``: render, status, and a local rollout started, watched and aborted from the command line."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import yaml
from doubles.fixture_model import build_model_folder
from rollout_support import registry_with

from cli.main import main
from components.images import serving_image
from components.registry import Stage
from components.rollout.core.config import load_config
from components.rollout.core.render import DeploymentPlan, ServedVersion, render_manifests, to_yaml
from components.rollout.core.strategy import Strategy, candidate_weights
from contracts.names import MODEL_CLASS, TRANSFORMER_CLASS
from contracts.serving_schema import ServingSchema

pytestmark = pytest.mark.xdist_group("rollout-local-e2e")

EXAMPLE_SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "serving_schema.example.json"
FEATURE_SERVER = "http://feature-server:6566"


@pytest.fixture()
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MLOPS_METADATA_URI", raising=False)
    return tmp_path


def test_render_prints_yaml_for_kubectl(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with registry_with(state_dir, ["s3://models/v1", "s3://models/v2"]):
        pass
    assert main(["rollout", "render", "v2", "--strategy", "ab", "--weight", "20", "--namespace", "prod"]) == 0
    [deployment] = list(yaml.safe_load_all(capsys.readouterr().out))
    assert deployment["kind"] == "SeldonDeployment" and deployment["metadata"]["namespace"] == "prod"
    assert deployment["spec"]["predictors"][0]["graph"]["parameters"][0]["value"] == "0.8"


def test_render_with_a_feature_server_puts_every_model_behind_the_transformer(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_with(state_dir, ["s3://models/v1", "s3://models/v2"]):
        pass
    command = ["rollout", "render", "v2", "--strategy", "canary", "--feature-server-url", FEATURE_SERVER]
    assert main(command) == 0
    text = capsys.readouterr().out
    [deployment] = list(yaml.safe_load_all(text))
    for predictor in deployment["spec"]["predictors"]:
        graph = predictor["graph"]
        [model] = graph["children"]
        assert (graph["type"], model["type"]) == ("TRANSFORMER", "MODEL")
        parameters = {parameter["name"]: parameter["value"] for parameter in graph["parameters"]}
        assert parameters["feature_server_url"] == FEATURE_SERVER
        [pod] = predictor["componentSpecs"]
        assert [c["args"][0] for c in pod["spec"]["containers"]] == [TRANSFORMER_CLASS, MODEL_CLASS]
    # Exactly what the renderer makes of the same plan: the command passes every choice through.
    plan = DeploymentPlan(
        main=ServedVersion("v1", "s3://models/v1"),
        candidate=ServedVersion("v2", "s3://models/v2"),
        strategy=Strategy.CANARY,
        candidate_weight=candidate_weights(Strategy.CANARY, load_config().steps)[0],
        image=serving_image(),
        feature_server_url=FEATURE_SERVER,
    )
    assert text == to_yaml(render_manifests(plan))


def test_render_refuses_a_feature_server_url_that_is_not_a_server(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_with(state_dir, ["s3://models/v1", "s3://models/v2"]):
        pass
    out = state_dir / "sdep.yaml"
    command = ["rollout", "render", "v2", "--feature-server-url", "feature-server:6566", "--out", str(out)]
    assert main(command) == 1
    captured = capsys.readouterr()
    assert "feature server URL 'feature-server:6566' is not http(s)://host[:port]" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_a_local_rollout_refuses_a_feature_server(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_with(state_dir, ["s3://models/v1", "s3://models/v2"]):
        pass
    assert main(["rollout", "start", "v2", "--local", "--feature-server-url", FEATURE_SERVER]) == 1
    assert "--feature-server-url renders a cluster's transformers" in capsys.readouterr().err


def test_status_without_a_rollout(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "status", "--local", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"rollout": None}
    assert main(["rollout", "abort", "--local"]) == 1  # nothing to abort: a clear error, exit 1


def test_a_local_rollout_started_and_aborted_from_the_command_line(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_dir = build_model_folder(
        state_dir / "models" / "v1", ServingSchema.read(EXAMPLE_SCHEMA), version="v1"
    )
    candidate = build_model_folder(
        state_dir / "models" / "v2", ServingSchema.read(EXAMPLE_SCHEMA), version="v2"
    )
    with registry_with(state_dir, [str(main_dir), str(candidate)]):
        pass
    codes: list[int] = []
    command = ["rollout", "start", "v2", "--local", "--port", "0", "--window", "600"]
    runner = threading.Thread(target=lambda: codes.append(main(command)))
    runner.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (state_dir / "rollout" / "proxy.json").exists():
        time.sleep(0.2)
    time.sleep(0.5)
    capsys.readouterr()
    assert main(["rollout", "status", "--local", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["phase"], status["candidate_weight"], status["candidate_version"]) == (
        "progressing",
        10,
        "v2",
    )
    assert main(["rollout", "abort", "--local"]) == 0
    runner.join(120)
    assert codes == [1]  # the rollout ended without a promotion
    assert main(["rollout", "status", "--local", "--json"]) == 0
    output = capsys.readouterr().out
    final = json.loads(output[output.index("{\n") :])
    assert final["phase"] == "aborted" and final["message"] == "aborted by an operator"
    with registry_with(state_dir, []) as (_, registry):
        assert registry.get("v2").stage is Stage.BLESSED and registry.get("v1").stage is Stage.PRODUCTION
    assert not (state_dir / "rollout" / "servers.json").exists()  # the command stopped what it started
