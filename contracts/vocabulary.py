"""Category strings to vocabulary ids, exactly as the model's ``StringLookup`` layers number them.

The model looks every categorical feature up with ``StringLookup(vocabulary, num_oov_indices=1,
mask_token=None)``: id 0 is the one out-of-vocabulary bucket, and the i-th vocabulary entry (from 0) is
id ``i + 1``. The TFLite core of the model (``components/train/tflite_core.py``) takes these ids in place
of the strings, so the lookup happens outside it; this module is that lookup, the only one, used by the
model server and by the tests that hold the core to the Keras model. It needs numpy only, so the
serving environment can run it without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from contracts.errors import ModelContractError

OOV_ID = 0
ID_DTYPE = np.int32


class CategoryIds:
    """The id of every string of one vocabulary; anything else is ``OOV_ID``.

    Args:
        vocabulary: The feature's vocabulary in the model's order (``model.json``'s vocabularies).

    Raises:
        ModelContractError: when an entry is not a string or appears twice.

    Example:
        >>> CategoryIds(["AA", "UA"]).ids(["UA", "ZZ", "AA"])
        array([2, 0, 1], dtype=int32)
    """

    def __init__(self, vocabulary: Sequence[str]) -> None:
        entries = list(vocabulary)
        if not all(isinstance(entry, str) for entry in entries):
            raise ModelContractError("every vocabulary entry must be a string")
        self._ids = {entry: index + 1 for index, entry in enumerate(entries)}
        if len(self._ids) != len(entries):
            repeated = sorted({entry for entry in entries if entries.count(entry) > 1})
            raise ModelContractError(f"the vocabulary repeats {repeated}")
        self.size = len(entries) + 1  # ids run from 0 (OOV) to len(vocabulary)

    def id_list(self, values: Iterable[str]) -> list[int]:
        """The id of each value as a list; unknown values get ``OOV_ID``."""
        lookup = self._ids.get
        return [lookup(value, OOV_ID) for value in values]

    def ids(self, values: Iterable[str]) -> np.ndarray:
        """The id of each value, ``int32`` of shape (len(values),); unknown values get ``OOV_ID``."""
        return np.array(self.id_list(values), dtype=ID_DTYPE)


def category_ids(values: Iterable[str], vocabulary: Sequence[str]) -> np.ndarray:
    """The ids of ``values`` in ``vocabulary`` (a one-off ``CategoryIds(vocabulary).ids(values)``).

    Raises:
        ModelContractError: when the vocabulary repeats an entry or holds a non-string.
    """
    return CategoryIds(vocabulary).ids(values)
