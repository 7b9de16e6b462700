"""Keeps Python's full garbage collections short in a model server process.

A server process holds ~77,000 Python objects (Seldon, Flask, numpy, the model) before it serves anything,
~390,000 where TensorFlow is installed, because Seldon Core then imports it. A full (oldest-generation)
collection walks all of them - 18 ms, or 240 ms with TensorFlow, measured - during which the worker holds
the GIL and every request on it waits. The collector runs
one whenever enough objects have survived into the oldest generation, which steady traffic guarantees
sooner or later, so these pauses were the slowest answers under load. Objects that exist once the
model is loaded live as long as the process; ``gc.freeze`` moves them out of the collector's sight,
and later full collections walk only what requests create.
"""

from __future__ import annotations

import gc


def freeze_loaded_objects() -> None:
    """Collects what is garbage now, then exempts every surviving object from future collections."""
    gc.collect()
    gc.freeze()
