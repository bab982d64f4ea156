"""Read a file of answers, whatever shape analysts export it in, and say what was guessed."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError
from pipeline.input_files import SUFFIXES, check_input_file
from pipeline.messages import plural, plural_word, say
from pipeline.records import Dataset, Response

log = logging.getLogger(__name__)

# Byte-order marks, longest first: UTF-32-LE's starts with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# An answer longer than this is a pasted document, not an answer: it is cut here, with a note in the manifest.
# spaCy refuses texts over 1,000,000 characters (E088) and parses in time that grows with length; the longest of
# the 3,263 real answers of elf_dev.csv has 16,762 characters (999 in 1,000 have under 5,900): none is cut.
MAX_ANSWER_CHARS = 20_000
# A text file has next to no control characters; a binary renamed .csv (a program, an archive, random bytes) has
# about one in eight. Over 1 in 100 in the first 64 KiB (and more than a few stray ones), it is refused as not text.
MAX_CONTROL_SHARE = 0.01
MIN_CONTROL_COUNT = 16
# NUL and the other control characters but tab and line breaks: invisible, and PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DELIMITERS = ",;\t|"
_ID_NAME = re.compile(
    r"^(id|ids|identifiant|respondent|r[ée]pondant|respondent_id|id_r[ée]pondant|uid|num[ée]ro)$", re.IGNORECASE
)
# A column with at most this many distinct values is offered as a segment for breakdowns.
MAX_SEGMENT_VALUES = 30


def _read_csv(raw: bytes) -> pd.DataFrame:
    if not raw.strip(b"\x00 \t\r\n" + codecs.BOM_UTF8 + codecs.BOM_UTF16_LE + codecs.BOM_UTF16_BE):
        raise InputError(say("input.empty"))
    text, repaired = decode(raw)
    head = text[:65536]
    if len(_CONTROL.findall(head)) > max(MIN_CONTROL_COUNT, MAX_CONTROL_SHARE * len(head)):
        raise InputError(say("input.not_text"))
    frame = pd.read_csv(io.StringIO(text), sep=delimiter_of(text[:65536]), dtype=str, keep_default_na=False)
    if repaired:
        frame.attrs["notes"] = [say("input.repaired_lines", lines=plural(repaired, "line"))]
    return frame


def delimiter_of(sample: str) -> str:
    """The header line's delimiter: the candidate it holds most often. csv.Sniffer, which looks at every line,
    took a comma for the delimiter of a semicolon file whose answers hold commas (and pandas then refused line 6)."""
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    if max(counts.values()) > 0:
        return max(_DELIMITERS, key=counts.get)  # the first listed wins a tie: the comma
    try:  # a one-column file: its header names no delimiter
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def decode(raw: bytes) -> tuple[str, int]:
    """The text of a file of answers, and how many of its lines were read as Windows-1252 among UTF-8 ones.

    UTF-32 and UTF-16 are known by their byte-order mark or, without one, by where their NUL bytes fall (ASCII
    text in UTF-16-LE has a NUL after every letter). A file that is not all UTF-8 is read line by line: a file
    stitched from two exports mixes UTF-8 and Windows-1252 rows, and decoding it whole as Windows-1252 turned every
    UTF-8 accent into "Ã©" without a word."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom) and bom != codecs.BOM_UTF8:
            return raw.decode(encoding), 0
    raw = raw.removeprefix(codecs.BOM_UTF8)  # UTF-8's mark: then as any UTF-8 file, Windows-1252 rows included
    if (encoding := _nul_pattern(raw[:4096])) is not None:
        return raw.decode(encoding, errors="replace"), 0
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    lines, legacy, utf8_accents = [], 0, False
    for line in raw.splitlines(keepends=True):
        try:
            lines.append(line.decode("utf-8"))
            utf8_accents = utf8_accents or not line.isascii()
        except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; latin-1 decodes anything
            lines.append(line.decode("cp1252", errors="strict") if _is_cp1252(line) else line.decode("latin-1"))
            legacy += 1
    return "".join(lines), legacy if utf8_accents else 0


def _is_cp1252(line: bytes) -> bool:
    try:
        line.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _nul_pattern(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark, from the positions of the NUL bytes of mostly ASCII text."""
    if head.count(0) < len(head) // 4:
        return None
    nul_at = [head[k::4].count(0) / max(len(head[k::4]), 1) for k in range(4)]
    if min(nul_at[1:]) > 0.9:
        return "utf-32-le"
    if min(nul_at[:3]) > 0.9:
        return "utf-32-be"
    odd, even = (nul_at[1] + nul_at[3]) / 2, (nul_at[0] + nul_at[2]) / 2
    return "utf-16-le" if odd > 0.9 else "utf-16-be" if even > 0.9 else None


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
if tuple(READERS) != SUFFIXES:  # a reader without its suffix listed, or the reverse, would refuse files it reads
    raise ImportError("pipeline.ingest.READERS and pipeline.input_files.SUFFIXES differ")


def file_sha256(path: Path) -> str:
    """The file's identity by content, read in chunks so that a large file is never held twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_table(path: Path, suffix: str, raw: bytes) -> pd.DataFrame:
    """The file's bytes ``raw`` as a table, every column as text, so ids such as 007 and answers such as "1" keep
    their form."""
    try:
        frame = READERS[suffix](raw)
    except InputError:
        raise
    except Exception as exc:  # a corrupt file of any format: say which file and why, not a traceback
        log.info("could not parse %s: %s", path.name, exc)  # the parser's own words, for whoever reads the logs
        raise InputError(say("input.unreadable", name=path.name, kind=suffix.lstrip(".").upper())) from exc
    if frame.empty or len(frame.columns) == 0:
        raise InputError(say("input.no_rows", name=path.name))
    frame.columns = [_CONTROL.sub("", str(c)).strip() for c in frame.columns]
    texts = frame.apply(lambda col: col.map(_as_text))
    texts.attrs["notes"] = frame.attrs.get("notes", [])  # what reading repaired, for the manifest
    return texts


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _CONTROL.sub("", str(value))


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


# The last file read, by its content and the arguments, and what it gave (never changed after): a command checks
# its file before its flow starts, so that a mistake is one French line, and the flow's first stage then reads it
# again (0.2 s of a 10,100-answer re-run's parsing; hashing the bytes to know it, 5 ms).
_LAST_READ: tuple[tuple, Dataset] | None = None


def ingest(path: Path, text_column: str | None = None, id_column: str | None = None, dedupe_ids: bool = False) -> Dataset:
    """Load answers; guessed columns, repairs and cuts are reported in ``notes`` so that they are visible.

    Two different answers under one respondent id are refused, naming the first such ids, unless ``dedupe_ids``
    numbers the later ones ("17", "17-2"); the same row twice stays, for cleaning to set aside as a duplicate.
    The file's SHA-256 is taken from the bytes read (a run used to read its input five times, hashing it apart)."""
    global _LAST_READ
    suffix = check_input_file(path)
    raw = path.read_bytes()
    key = (hashlib.sha256(raw).hexdigest(), suffix, text_column, id_column, dedupe_ids)
    last = _LAST_READ
    if last is not None and last[0] == key:
        return last[1]
    dataset = _answers(read_table(path, suffix, raw), key[0], text_column, id_column, dedupe_ids)
    _LAST_READ = (key, dataset)
    return dataset


def _answers(frame: pd.DataFrame, sha256: str, text_column: str | None, id_column: str | None, dedupe_ids: bool) -> Dataset:
    notes: list[str] = list(frame.attrs.get("notes", []))
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
    texts, cut = _cut_long_answers(frame[text_column])
    if cut:
        limit = f"{MAX_ANSWER_CHARS:,}".replace(",", "\u202f")  # French thousands: a narrow no-break space
        notes.append(say("input.cut", answers=plural(cut, "answer"), limit=limit, cut=plural_word(cut, "cut")))
    given = frame[id_column].str.strip().tolist() if id_column else [""] * len(frame)
    ids = _unique_ids(_fill_missing_ids(given), texts.tolist(), dedupe_ids, notes)
    meta_columns = [c for c in frame.columns if c not in (text_column, id_column)]
    segment_columns = [c for c in meta_columns if 1 < frame[c].nunique() <= min(MAX_SEGMENT_VALUES, len(frame) - 1)]
    responses = [
        Response(respondent_id=rid, text=text, segments=meta)
        for rid, text, meta in zip(ids, texts, frame[meta_columns].to_dict("records"), strict=True)
    ]
    return Dataset(
        responses=responses,
        text_column=text_column,
        id_column=id_column,
        segment_columns=segment_columns,
        notes=notes,
        input_sha256=sha256,
    )


def _cut_long_answers(texts: pd.Series) -> tuple[pd.Series, int]:
    long = texts.str.len() > MAX_ANSWER_CHARS
    return texts.where(~long, texts.str.slice(0, MAX_ANSWER_CHARS)), int(long.sum())


def _fill_missing_ids(ids: list[str]) -> list[str]:
    """A row without an id is numbered by its line, "row-3", or "row-3-2" when the file already has a "row-3"."""
    taken = set(ids)
    filled = []
    for n, rid in enumerate(ids, start=1):
        if not rid:
            rid, k = f"row-{n}", 2
            while rid in taken:
                rid, k = f"row-{n}-{k}", k + 1
            taken.add(rid)
        filled.append(rid)
    return filled


def _unique_ids(ids: list[str], texts: list[str], dedupe: bool, notes: list[str]) -> list[str]:
    """The ids, refused (or, with ``dedupe``, numbered) where one id carries two different answers."""
    first_text: dict[str, str] = {}
    clashes: list[str] = []
    for rid, text in zip(ids, texts, strict=True):
        if first_text.setdefault(rid, text) != text and rid not in clashes:
            clashes.append(rid)
    if not clashes:
        return ids
    if not dedupe:
        shown = ", ".join(f"« {rid} »" for rid in clashes[:5]) + (" …" if len(clashes) > 5 else "")
        raise InputError(say("input.duplicate_ids", clashes=plural(len(clashes), "duplicate_id"), ids=shown))
    taken, seen_text, unique = set(ids), {}, []
    for rid, text in zip(ids, texts, strict=True):
        if rid in seen_text and seen_text[rid] != text:
            k = 2
            while f"{rid}-{k}" in taken:
                k += 1
            rid = f"{rid}-{k}"
            taken.add(rid)
        seen_text.setdefault(rid, text)
        unique.append(rid)
    notes.append(say("input.deduped", clashes=plural(len(clashes), "duplicate_id")))
    return unique
