"""Each bad batch a user brings is halted before training, naming the anomaly, with no model trained or
registered.

Every case of the catalogue goes through the steps a run chains for a user's file (ingest's copy of it, the
validation step, the gate), in process; two of them, a bad value and a damaged file, also go through whole
`mlops run --data FILE` runs, which show what the steps' chaining adds: the exit code, the summary naming
the anomaly, no train or register step, an empty registry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from default_data import default_months

from cli.main import main
from components.gate.logic import enforce
from components.ingest.step import feature_store, materialise_batch
from components.lineage import open_store
from components.registry import ModelRegistry
from components.settings import ProjectSettings
from components.validation.catalogue import bad_data_case
from components.validation.report import REPORT_FILE, read_report
from components.validation.step import ValidationOutputs, validate_batch
from contracts.errors import DataValidationHalt

# The catalogue of the data-validation issue.
ISSUE_CASES = (
    "missing-required-column",
    "unexpected-extra-column",
    "text-in-numeric-column",
    "unknown-carrier",
    "required-feature-missing",
    "negative-distance",
    "hour-27",
    "all-null-numeric",
    "empty-batch",
    "truncated-file",
)


@pytest.fixture(scope="module")
def july_sample() -> pd.DataFrame:
    return default_months([7]).sample(n=2_000, random_state=3).sort_index().reset_index(drop=True)


# Whole runs: one bad value the schema catches, one file that cannot even be read.
RUN_CASES = ("hour-27", "truncated-file")


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_the_gate_halts_each_bad_batch_naming_the_anomaly(
    name: str, july_sample: pd.DataFrame, tmp_path: Path
) -> None:
    case = bad_data_case(name)
    user_file = case.write(july_sample, tmp_path / "user" / "batch.csv")
    batch_dir = tmp_path / "batch"
    materialise_batch(batch_dir, months=[], features=feature_store(""), data_file=str(user_file))
    outputs = ValidationOutputs(
        *(tmp_path / part for part in ("stats", "stats.html", "stats.md", "report", "report.md"))
    )

    report = validate_batch(batch_dir, outputs, batch="new batch")

    assert report.verdict == "halt"
    with pytest.raises(DataValidationHalt, match="before training") as halted:
        enforce(read_report(outputs.report_dir / REPORT_FILE))
    assert f"{case.feature}: {case.anomaly_type}" in str(halted.value)


@pytest.mark.parametrize("name", RUN_CASES)
def test_bad_batch_halts_the_run_naming_the_anomaly(
    name: str,
    july_sample: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = bad_data_case(name)
    user_file = case.write(july_sample, tmp_path / "user" / "batch.csv")
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))

    exit_code = main(["run", "--data", str(user_file), "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert exit_code == 1
    # The training batch may be validated before the new batch's gate halts the run (independent steps):
    # it is clean, so its verdict, when there is one, is proceed.
    assert "new batch: halt" in summary["validation"]
    assert set(summary["validation"]) <= {"new batch: halt", "training batch: proceed"}
    (failure,) = summary["failures"]
    assert failure.startswith("gate: DataValidationHalt")
    assert f"{case.feature}: {case.anomaly_type}" in failure
    assert not {"train", "register"} & {step["component"] for step in summary["steps"]}
    settings = ProjectSettings.resolve({"MLOPS_STATE_DIR": str(tmp_path / "state")}, Path.cwd())
    with open_store(settings.metadata_uri) as store:
        assert ModelRegistry(store).list_versions() == []
        assert store.artifacts_of_type("Model") == []
