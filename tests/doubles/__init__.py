"""Test doubles: a model folder built without training, and Seldon echo models (the serving ceiling the
benchmark compares against). Importable as ``doubles`` with tests/ on the import path; servers that run
them get tests/ through ``ServerConfig.python_path``."""

from pathlib import Path

# The folder that makes ``doubles`` importable: a server running a double gets it on its import path.
TESTS_DIR = Path(__file__).resolve().parents[1]
# The Seldon echo models by import path: stock, and with the model's metric-table update (``echo*``).
ECHO_CLASS = "doubles.echo.EchoModel"
ATOMIC_ECHO_CLASS = "doubles.echo_atomic.AtomicMetricsEchoModel"
