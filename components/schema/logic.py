"""The data schema: drafting one from a batch, and reading or writing the curated copy.

``schema.pbtxt`` beside this file is the curated schema the pipeline validates against. It began as
``infer_draft_schema`` of January to June 2013 and was then edited by hand (see ``README.md``); a user
with other data drafts a new one from any batch the same way, then curates it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import pandas as pd
import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.statistics.logic import Statistics, compute_statistics
from contracts.data_contract import LABEL
from contracts.errors import ValidationError

Schema: TypeAlias = schema_pb2.Schema

SCHEMA_PATH = Path(__file__).with_name("schema.pbtxt")
TRAINING = "TRAINING"
SERVING = "SERVING"


def infer_draft_schema_from_statistics(stats: Statistics, *, label: str = LABEL) -> Schema:
    """Infers a draft schema from statistics and declares the TRAINING and SERVING environments.

    Inference is naive on purpose (every value seen becomes the domain, every feature seen in every row
    becomes required); the draft is a starting point for hand curation, not a schema to validate with.

    Args:
        stats: Statistics of a representative batch.
        label: Feature that exists at training time only; it is kept out of the SERVING environment.

    Returns:
        The draft schema.
    """
    schema = tfdv.infer_schema(stats)
    schema.default_environment.extend([TRAINING, SERVING])
    for feature in schema.feature:
        if feature.name == label:
            feature.not_in_environment.append(SERVING)
    return schema


def infer_draft_schema(frame: pd.DataFrame, *, label: str = LABEL) -> Schema:
    """Infers a draft schema from a batch held in memory.

    Example:
        >>> draft = infer_draft_schema(load_months(range(1, 7)))
        >>> write_schema(draft, Path("draft_schema.pbtxt"))
    """
    return infer_draft_schema_from_statistics(compute_statistics(frame), label=label)


def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    """Reads a schema in protobuf text format (the curated one by default).

    Raises:
        ValidationError: when the file is missing or not a valid schema.
    """
    try:
        return text_format.Parse(path.read_text(encoding="utf-8"), Schema())
    except (OSError, text_format.ParseError) as exc:
        raise ValidationError(f"{path}: not a readable schema: {exc}") from exc


def write_schema(schema: Schema, path: Path) -> Path:
    """Writes a schema in protobuf text format, creating parent folders.

    Returns:
        ``path``, for chaining.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_format.MessageToString(schema), encoding="utf-8")
    return path
