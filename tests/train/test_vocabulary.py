"""The shared category lookup numbers strings exactly as the model's ``StringLookup`` layers do."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from components.train.logic import TrainedModel
from contracts.errors import ModelContractError
from contracts.vocabulary import OOV_ID, CategoryIds, category_ids

VOCABULARY = ["", "9E", "AA", "B6", "Turbo-fan", "Zürich", "a b", "ÅÄÖ"]
PROBES = [
    *VOCABULARY,
    "aa",  # case matters
    " AA",  # so does white space
    "AA ",
    "ZZ",
    "Zu\u0308rich",  # the same text, decomposed: other bytes, so another string
    "\x00",
    "x" * 300,
]


def _keras_ids(vocabulary: list[str], values: list[str]) -> np.ndarray:
    lookup = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, mask_token=None)
    return np.asarray(lookup(np.asarray(values, dtype=object).reshape(-1, 1))).reshape(-1)


def test_ids_equal_string_lookup_for_known_unknown_and_tricky_strings() -> None:
    np.testing.assert_array_equal(CategoryIds(VOCABULARY).ids(PROBES), _keras_ids(VOCABULARY, PROBES))


def test_ids_on_the_trained_vocabularies_equal_string_lookup(trained: TrainedModel) -> None:
    for name, vocabulary in trained.metadata.stats.vocabularies.items():
        values = [*vocabulary, "never-seen", *reversed(vocabulary)]
        np.testing.assert_array_equal(
            category_ids(values, vocabulary), _keras_ids(list(vocabulary), values), err_msg=name
        )


def test_numbering_convention() -> None:
    ids = CategoryIds(["AA", "UA"])
    assert OOV_ID == 0
    assert ids.ids(["AA", "UA", "ZZ"]).tolist() == [1, 2, 0]
    assert ids.ids(np.asarray(["UA"], dtype=object)).dtype == np.int32
    assert ids.ids([]).shape == (0,)
    assert ids.size == 3


def test_a_vocabulary_string_lookup_would_refuse_is_refused() -> None:
    with pytest.raises(ModelContractError, match=r"repeats \['AA'\]"):
        CategoryIds(["AA", "UA", "AA"])
    with pytest.raises(ModelContractError, match="must be a string"):
        CategoryIds(["AA", 7])  # type: ignore[list-item]
