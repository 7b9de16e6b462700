"""contracts/data_contract.md documents every column of the contract, with its type."""

from __future__ import annotations

from pathlib import Path

from contracts.data_contract import COLUMNS

CONTRACT_DOC = Path(__file__).resolve().parents[2] / "contracts" / "data_contract.md"


def test_every_column_is_documented_with_its_type() -> None:
    text = CONTRACT_DOC.read_text()
    for column in COLUMNS:
        assert f"| `{column.name}` | {column.kind.value} | {column.role.value} |" in text, column.name
