"""Validated request rows in the two shapes every inference path wants: one number matrix, string lists.

Inside the model server a numpy call costs a few microseconds (measured ~3-5 µs each under load, far more
than in a hot loop), so one-row requests are dominated by how many calls they make. The validator
therefore hands over all numeric features as a single (features, rows) float64 matrix and the string
features as plain lists; a backend takes its packed inputs from them in one or two calls. The per-feature
columns (for the request log and for tests) are derived only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property

import numpy as np


class FeatureBatch:
    """Validated request rows.

    Args:
        rows: Number of rows.
        numeric_names: The numeric features, in schema order.
        numbers: float64 of shape (len(numeric_names), rows), one matrix row per feature, NaN for null.
        integral: Per numeric feature, whether the schema declares it an integer.
        string_names: The string features, in schema order.
        strings: Per string feature, its values as str (null as ``""``, which the model was trained on).
        names: Every feature in schema order; defaults to the numeric ones, then the string ones.
    """

    def __init__(
        self,
        rows: int,
        numeric_names: Sequence[str],
        numbers: np.ndarray,
        integral: Sequence[bool],
        string_names: Sequence[str],
        strings: Sequence[list[str]],
        names: Sequence[str] | None = None,
    ) -> None:
        self.rows = rows
        self.numeric_names = tuple(numeric_names)
        self.numbers = numbers
        self.integral = tuple(integral)
        self.string_names = tuple(string_names)
        self.strings = tuple(strings)
        self.names = tuple(names) if names is not None else (*self.numeric_names, *self.string_names)

    @cached_property
    def with_missing(self) -> frozenset[str]:
        """Numeric features with at least one NaN (a null the model imputes)."""
        if not self.numeric_names:
            return frozenset()
        gaps = np.isnan(self.numbers).any(axis=1).tolist()
        return frozenset(name for name, gap in zip(self.numeric_names, gaps, strict=True) if gap)

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        """Per feature in schema order, shape (rows,): int64 for an integer feature without nulls,
        float64 (NaN for null) for other numbers, an object array of str for strings."""
        columns: dict[str, np.ndarray] = {}
        for index, name in enumerate(self.numeric_names):
            whole = self.integral[index] and name not in self.with_missing
            columns[name] = self.numbers[index].astype(np.int64) if whole else self.numbers[index]
        for name, values in zip(self.string_names, self.strings, strict=True):
            column = np.empty(len(values), dtype=object)
            column[:] = values
            columns[name] = column
        return {name: columns[name] for name in self.names}

    def plain_columns(self) -> dict[str, list[int | float | str | None]]:
        """``columns`` as plain lists for the request log: None for NaN, in schema order.

        Built with a handful of numpy calls whatever the row count and without ``cached_property``,
        whose Python 3.11 lock is one per property for every instance: the request threads of a
        worker queued on it when each built its log record through ``columns`` (seen in profiles).
        """
        values: dict[str, list[int | float | str | None]] = {}
        if self.numeric_names:
            gaps = np.isnan(self.numbers).any(axis=1).tolist()
            floats = self.numbers.tolist()
            whole = [i for i, integral in enumerate(self.integral) if integral and not gaps[i]]
            ints = self.numbers[whole].astype(np.int64).tolist() if whole else []
            for index, name in enumerate(self.numeric_names):
                row = floats[index]
                values[name] = [None if v != v else v for v in row] if gaps[index] else row
            for index, column in zip(whole, ints, strict=True):
                values[self.numeric_names[index]] = column
        for name, strings in zip(self.string_names, self.strings, strict=True):
            values[name] = list(strings)
        return {name: values[name] for name in self.names}

    def number_matrix(self, names: Sequence[str], dtype: type = np.float32) -> np.ndarray:
        """The numeric features ``names`` as a C-contiguous (rows, len(names)) matrix of ``dtype``.

        Raises:
            KeyError: when a name is not a numeric feature of this batch.
        """
        index = _positions(self.numeric_names, tuple(names))
        matrix = self.numbers if index is None else self.numbers[index]
        return np.ascontiguousarray(matrix.T, dtype=dtype)

    def string_columns(self, names: Sequence[str]) -> list[list[str]]:
        """The string features ``names``, each as its list of values (no copy).

        Raises:
            KeyError: when a name is not a string feature of this batch.
        """
        index = _positions(self.string_names, tuple(names))
        if index is None:
            return list(self.strings)
        return [self.strings[position] for position in index.tolist()]

    @classmethod
    def concatenate(cls, batches: Sequence[FeatureBatch]) -> FeatureBatch:
        """The rows of ``batches`` (all of one schema) as one batch, in order."""
        first = batches[0]
        return cls(
            rows=sum(batch.rows for batch in batches),
            numeric_names=first.numeric_names,
            numbers=np.concatenate([batch.numbers for batch in batches], axis=1),
            integral=first.integral,
            string_names=first.string_names,
            strings=[
                [value for batch in batches for value in batch.strings[index]]
                for index in range(len(first.string_names))
            ],
            names=first.names,
        )


@cache
def _positions(present: tuple[str, ...], wanted: tuple[str, ...]) -> np.ndarray | None:
    # Backends ask for the same order on every request: the answer is computed once per pair of orders.
    if present == wanted:
        return None
    where = {name: index for index, name in enumerate(present)}
    return np.array([where[name] for name in wanted], dtype=np.intp)
