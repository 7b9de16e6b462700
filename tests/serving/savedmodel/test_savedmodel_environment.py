"""The savedmodel environment: the serving set plus TensorFlow 2.16, which the TFLite path still never loads."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from ..conftest import PROJECT_ROOT


def test_tensorflow_sits_beside_seldon_core() -> None:
    assert version("tensorflow").startswith("2.16.")
    assert version("seldon-core") == "1.17.1"
    assert version("protobuf").startswith("3.20.")


def test_loading_the_tflite_backend_imports_no_tensorflow(model_dir: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from components.serving.backend_kinds import Backend\n"
        "from components.serving.backends import core_contract, load_backend\n"
        "folder = Path(sys.argv[1])\n"
        "contract = core_contract(json.loads((folder / 'model.json').read_text()))\n"
        "load_backend(Backend.TFLITE, folder, contract, threads=1)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(model_dir)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
