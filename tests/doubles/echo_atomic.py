"""The echo model with the model server's metric-table update: the wrapper's ceiling, like for like.

Stock Seldon copies a worker's metric table through its multiprocessing manager after every response,
behind one lock shared by all workers; ``FlightDelayModel`` replaces that update with one that does
nothing when a response brings no metrics (``components/serving/metric_table.py``). Against the plain
``EchoModel`` the served model then skips work the echo still does, and "model / echo" stops meaning
"what the model adds". ``bench/bench_serving.py`` serves both echoes, so the table shows the ceiling
with and without the manager round trips.
"""

from __future__ import annotations

from components.serving.metric_table import install_atomic_update
from doubles.echo import EchoModel


class AtomicMetricsEchoModel(EchoModel):
    """``EchoModel`` in a process whose Seldon metric updates are atomic and skipped when empty."""

    def __init__(self) -> None:
        # In the gunicorn master, before the fork, as FlightDelayModel does.
        install_atomic_update()
