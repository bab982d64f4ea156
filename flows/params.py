"""Flow parameter types, validated by pydantic before a flow run starts.

A deployment run started from the Prefect UI or on a schedule gets no help from the CLI's checks: a missing
file or a codebook of the wrong type fails the run at once with a message naming the parameter, and the
types show up as the deployment's parameter schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from pipeline.input_files import SUFFIXES, unsupported_type
from pipeline.messages import say


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(say("params.no_file", path=path))
    return path


def _answers_file(path: Path) -> Path:
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(unsupported_type(path.suffix))
    return _existing_file(path)


def _yaml_file(path: Path) -> Path:
    if path.suffix.lower() not in {".yaml", ".yml"}:
        raise ValueError(say("params.codebook_suffix", suffix=path.suffix))
    return _existing_file(path)


def _database(value: str) -> str:
    if "://" in value and not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://", "sqlite://")):
        raise ValueError(say("params.db"))
    return value


# What each parameter means is in the flows' docstrings, which Prefect shows beside the field in the UI.
InputFile = Annotated[Path, AfterValidator(_answers_file)]
CodebookFile = Annotated[Path, AfterValidator(_yaml_file)]
TextFile = Annotated[Path, AfterValidator(_existing_file)]
EmbedderName = Annotated[str, Field(min_length=1)]
DbUrl = Annotated[str, AfterValidator(_database)]
RunId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]
