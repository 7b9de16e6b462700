"""The cluster-run logic of `mlops deploy` without a cluster: names, arguments, and the errors a user
sees when Kubeflow Pipelines is not reachable (against real sockets and a real HTTP server on loopback)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import main
from contracts.errors import ConfigError, DeploymentError
from pipelines import cluster_runs

GOLDEN_SPEC = Path(__file__).resolve().parents[1] / "pipelines" / "golden" / "continuous-training.yaml"
MYSQL_URI = "mysql://mlmd:secret@metadata-mysql.flights-mlops.svc.cluster.local:3306/mlmd"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server(request: pytest.FixtureRequest) -> Iterator[str]:
    body: bytes = request.param

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_params_are_decoded_as_json_when_they_are_json() -> None:
    assert cluster_runs.parse_params(
        ["eval_month=8", "train_months=[2, 3]", "trigger=drift", "note=a=b"]
    ) == {
        "eval_month": 8,
        "train_months": [2, 3],
        "trigger": "drift",
        "note": "a=b",
    }
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        cluster_runs.parse_params(["eval_month"])


def test_run_arguments_need_a_shared_store_and_keep_their_fixed_parts() -> None:
    arguments = cluster_runs.run_arguments(
        metadata_uri=MYSQL_URI,
        code_version="img@sha256:1",
        trigger="schedule",
        request_id="r1",
        params={"epochs": 2},
    )
    assert arguments == {
        "metadata_uri": MYSQL_URI,
        "code_version": "img@sha256:1",
        "trigger": "schedule",
        "request_id": "r1",
        "epochs": 2,
    }
    with pytest.raises(ConfigError, match="not a SQLite file"):
        cluster_runs.run_arguments(
            metadata_uri="sqlite:///x.sqlite", code_version="c", trigger="t", request_id="r"
        )
    with pytest.raises(ConfigError, match=r"\['trigger'\]"):
        cluster_runs.run_arguments(
            metadata_uri=MYSQL_URI, code_version="c", trigger="t", request_id="r", params={"trigger": "x"}
        )


def test_version_name_follows_the_spec_content(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOLDEN_SPEC.read_text())
    first = cluster_runs.version_name(spec)
    assert first == cluster_runs.version_name(spec)
    spec.write_text(
        GOLDEN_SPEC.read_text().replace("flights-mlops-pipeline:", "flights-mlops-pipeline:other-", 1)
    )
    assert cluster_runs.version_name(spec) != first
    with pytest.raises(DeploymentError, match="make compile"):
        cluster_runs.version_name(tmp_path / "missing.yaml")


def test_the_pipeline_image_is_read_from_the_compiled_spec(tmp_path: Path) -> None:
    image = cluster_runs.pipeline_image(cluster_runs.read_spec(GOLDEN_SPEC))
    assert image.rsplit("/", 1)[-1].startswith("flights-mlops-pipeline")
    not_a_spec = tmp_path / "other.yaml"
    not_a_spec.write_text("kind: ConfigMap\n")
    with pytest.raises(DeploymentError, match="not a compiled KFP pipeline spec"):
        cluster_runs.read_spec(not_a_spec)
    with pytest.raises(DeploymentError, match="runs no flights-mlops-pipeline image"):
        cluster_runs.pipeline_image(
            {"deploymentSpec": {"executors": {"x": {"container": {"image": "busybox:1"}}}}}
        )


def test_an_unreachable_api_names_the_port_forward() -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(DeploymentError, match="port-forward svc/ml-pipeline") as caught:
        cluster_runs.check_reachable(host, timeout=2)
    assert host in str(caught.value)


@pytest.mark.parametrize("http_server", [b"<html>a web page</html>"], indirect=True)
def test_something_else_answering_is_not_taken_for_the_api(http_server: str) -> None:
    with pytest.raises(DeploymentError, match="not as the Kubeflow Pipelines API"):
        cluster_runs.check_reachable(http_server)


@pytest.mark.parametrize("http_server", [b'{"commit_sha": "abc", "multi_user": false}'], indirect=True)
def test_a_healthz_answer_passes(http_server: str) -> None:
    cluster_runs.check_reachable(http_server)


def test_upload_and_run_refuses_a_local_store_before_touching_the_cluster(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_METADATA_URI", "sqlite:///local.sqlite")
    code = main(["deploy", "upload-and-run", "--host", "http://127.0.0.1:1", "--package", str(GOLDEN_SPEC)])
    assert code == 1
    assert "MLOPS_METADATA_URI" in capsys.readouterr().err


def test_upload_and_run_says_how_to_reach_the_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_METADATA_URI", MYSQL_URI)
    host = f"http://127.0.0.1:{closed_port()}"
    code = main(["deploy", "upload-and-run", "--host", host, "--package", str(GOLDEN_SPEC), "--json"])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Kubeflow Pipelines does not answer" in captured.err and "port-forward" in captured.err
