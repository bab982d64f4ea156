"""Which files the product reads, judged from the path alone: no table library is imported here, so that a command
can refuse a mistyped path before it starts anything (``cli.analysis_commands.analyze`` checks it before it starts
the Prefect server). ``pipeline.ingest`` reads the content, one reader per suffix listed here."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".parquet")


def unsupported_type(suffix: str) -> str:
    return say("input.unsupported", suffix=suffix, suffixes=", ".join(SUFFIXES))


def check_input_file(path: Path) -> str:
    """The file's suffix, lower-case, once it exists, is a file, and is of a type the product reads."""
    if not path.exists():
        raise NotFoundError(say("input.not_found", path=path))
    if path.is_dir():
        raise InputError(say("input.folder", path=path))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(unsupported_type(suffix))
    return suffix
