"""Read a file of answers, whatever shape analysts export it in, and say what was guessed."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say
from pipeline.records import Dataset, Response

_ENCODINGS = ("utf-8-sig", "cp1252")
_DELIMITERS = ",;\t|"
_ID_NAME = re.compile(
    r"^(id|ids|identifiant|respondent|r[ée]pondant|respondent_id|id_r[ée]pondant|uid|num[ée]ro)$", re.IGNORECASE
)
# A column with at most this many distinct values is offered as a segment for breakdowns.
MAX_SEGMENT_VALUES = 30


def _read_csv(raw: bytes) -> pd.DataFrame:
    if not raw.strip():
        raise InputError(say("input.empty"))
    for encoding in _ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # cp1252 leaves five bytes undefined; latin-1 decodes anything
        text = raw.decode("latin-1")
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = max(_DELIMITERS, key=lambda d: sample.split("\n", 1)[0].count(d))
    return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)


def _read_excel(raw: bytes) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(raw), dtype=str)


def _read_json_lines(raw: bytes) -> pd.DataFrame:
    return pd.read_json(io.BytesIO(raw), lines=True, dtype=False)


def _read_parquet(raw: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(raw))


# Readers by file suffix: the one list of what the product reads (the CLI, the flows' parameters and the
# watched folder all check against it). Each parses the file's bytes, read once: the same bytes give the
# file's content hash, which the flows' cache keys start from.
READERS: dict[str, Callable[[bytes], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".txt": _read_csv,
    ".xlsx": _read_excel,
    ".xlsm": _read_excel,
    ".jsonl": _read_json_lines,
    ".ndjson": _read_json_lines,
    ".parquet": _read_parquet,
}
SUFFIXES = tuple(READERS)


def unsupported_type(suffix: str) -> str:
    return say("input.unsupported", suffix=suffix, suffixes=", ".join(SUFFIXES))


def file_sha256(path: Path) -> str:
    """The file's identity by content, read in chunks so that a large file is never held twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_table(path: Path) -> tuple[pd.DataFrame, str]:
    """Every column as text, so ids such as 007 and answers such as "1" keep their form; and the file's
    SHA-256, from the same bytes (a run used to read its input five times, hashing it apart)."""
    if not path.exists():
        raise NotFoundError(say("input.not_found", path=path))
    if path.is_dir():
        raise InputError(say("input.folder", path=path))
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise InputError(unsupported_type(suffix))
    raw = path.read_bytes()
    try:
        frame = READERS[suffix](raw)
    except InputError:
        raise
    except Exception as exc:  # a corrupt file of any format: say which file and why, not a traceback
        raise InputError(say("input.unreadable", name=path.name, error=exc)) from exc
    if frame.empty or len(frame.columns) == 0:
        raise InputError(say("input.no_rows", path=path))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.map(_as_text)), hashlib.sha256(raw).hexdigest()


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def guess_text_column(frame: pd.DataFrame) -> str:
    """The column with the longest answers on average: answers are prose, metadata is short."""
    lengths = {c: frame[c].str.len().mean() for c in frame.columns if not _looks_numeric(frame[c])}
    if not lengths:
        raise InputError(say("input.no_text_column"))
    return max(lengths, key=lengths.get)


def guess_id_column(frame: pd.DataFrame, text_column: str) -> str | None:
    candidates = [c for c in frame.columns if c != text_column]
    named = [c for c in candidates if _ID_NAME.match(c)]
    if named:
        return named[0]
    unique = [c for c in candidates if frame[c].is_unique and (frame[c] != "").all() and frame[c].str.len().max() <= 40]
    return unique[0] if unique else None


def _looks_numeric(column: pd.Series) -> bool:
    filled = column[column != ""]
    return bool(len(filled)) and bool(filled.str.fullmatch(r"[-+]?\d+([.,]\d+)?").all())


def _check_column(frame: pd.DataFrame, name: str, option: str) -> None:
    if name not in frame.columns:
        available = ", ".join(repr(c) for c in frame.columns)
        raise InputError(say("input.no_column", name=name, option=option, available=available))


def ingest(path: Path, text_column: str | None = None, id_column: str | None = None) -> Dataset:
    """Load answers; guessed columns are reported in ``notes`` so a wrong guess is visible."""
    frame, sha256 = read_table(path)
    notes: list[str] = []
    if text_column:
        _check_column(frame, text_column, "--text-col")
    else:
        text_column = guess_text_column(frame)
        notes.append(say("input.text_guessed", column=text_column))
    if id_column:
        _check_column(frame, id_column, "--id-col")
    else:
        id_column = guess_id_column(frame, text_column)
        notes.append(say("input.id_guessed", column=id_column) if id_column else say("input.no_id"))
    if (frame[text_column].str.strip() == "").all():
        raise InputError(say("input.no_answers", column=text_column))
    ids = frame[id_column].str.strip() if id_column else pd.Series([f"row-{i + 1}" for i in range(len(frame))])
    ids = ids.where(ids != "", [f"row-{i + 1}" for i in range(len(frame))])
    meta_columns = [c for c in frame.columns if c not in (text_column, id_column)]
    segment_columns = [c for c in meta_columns if 1 < frame[c].nunique() <= min(MAX_SEGMENT_VALUES, len(frame) - 1)]
    responses = [
        Response(respondent_id=rid, text=text, segments=meta)
        for rid, text, meta in zip(ids, frame[text_column], frame[meta_columns].to_dict("records"), strict=True)
    ]
    return Dataset(
        responses=responses,
        text_column=text_column,
        id_column=id_column,
        segment_columns=segment_columns,
        notes=notes,
        input_sha256=sha256,
    )
