"""What the TFLite core of a model takes and gives, as recorded under ``"tflite"`` in ``model.json``.

The core (``model.tflite``) is the trained model without its string lookups. It has two inputs and one
output, all with a free batch dimension:

- ``numbers``: float32 (rows, len(numeric)), the numeric features in ``numeric`` order, NaN for missing
  (imputation, clipping and missing-indicators stay inside the core, as in the Keras model);
- ``category_ids``: int32 (rows, len(categorical)), per categorical feature in ``categorical`` order the
  id of its value in ``vocabularies[feature]`` (``contracts/vocabulary.py``: 0 = out of
  vocabulary, entry i = id i + 1);
- the output, float32 (rows, 1): the delay probability, named ``output``.

This module uses the standard library only: the model server reads it without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.errors import ModelContractError
from contracts.names import TFLITE_FILE

SECTION = "tflite"
NUMBERS_INPUT = "numbers"
CATEGORY_IDS_INPUT = "category_ids"


@dataclass(frozen=True)
class CoreContract:
    """The inputs and output of a TFLite core.

    Attributes:
        numeric: Numeric feature names, in the column order of ``numbers``.
        categorical: Categorical feature names, in the column order of ``category_ids``.
        vocabularies: Per categorical feature, its vocabulary in id order (id 0, out of vocabulary, is
            not listed).
        output: The output tensor's name.
        file: The core's file name inside the model folder.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    vocabularies: Mapping[str, tuple[str, ...]]
    output: str
    file: str = TFLITE_FILE

    def __post_init__(self) -> None:
        names = [*self.numeric, *self.categorical]
        if len(set(names)) != len(names):
            raise ModelContractError(f"the TFLite core names a feature twice: {names}")
        if "/" in self.file or self.file in ("", ".", ".."):
            raise ModelContractError(f"the TFLite core's file must be a plain file name, not {self.file!r}")
        if set(self.vocabularies) != set(self.categorical):
            raise ModelContractError(
                f"the TFLite core has vocabularies for {sorted(self.vocabularies)}, "
                f"its categorical inputs are {sorted(self.categorical)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The ``"tflite"`` section of ``model.json``."""
        return {
            "file": self.file,
            "inputs": {NUMBERS_INPUT: list(self.numeric), CATEGORY_IDS_INPUT: list(self.categorical)},
            "output": self.output,
            "out_of_vocabulary_id": 0,
            "vocabularies": {name: list(self.vocabularies[name]) for name in self.categorical},
        }

    @classmethod
    def from_dict(cls, values: Any) -> CoreContract:
        """Reads a ``"tflite"`` section.

        Raises:
            ModelContractError: when a key is missing or of the wrong type.
        """
        try:
            inputs = values["inputs"]
            contract = cls(
                numeric=_names(inputs[NUMBERS_INPUT]),
                categorical=_names(inputs[CATEGORY_IDS_INPUT]),
                vocabularies={name: _names(vocab) for name, vocab in values["vocabularies"].items()},
                output=_name(values["output"]),
                file=_name(values["file"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ModelContractError(f"the {SECTION!r} section of model.json is incomplete: {exc!r}") from exc
        if values.get("out_of_vocabulary_id") != 0:
            raise ModelContractError("the TFLite core must number out-of-vocabulary values 0")
        return contract

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> CoreContract | None:
        """The contract recorded in a decoded ``model.json``, or None when it records no TFLite core.

        Raises:
            ModelContractError: when the section is present but malformed.
        """
        section = metadata.get(SECTION)
        return None if section is None else cls.from_dict(section)


def _names(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise TypeError(f"expected a list of strings, got {values!r:.80}")
    return tuple(values)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a non-empty string, got {value!r:.80}")
    return value
