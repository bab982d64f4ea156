"""What the review queue reads of a run, read once and kept: units, answers, segments, the machine's
assignments and unit vectors.

A run's units never change once recorded (corrections are events on top), so they are read from the store
once per process and their vectors once per machine: kept in memory for the web server, which asks at every
request, and in a ``.npy`` file of the cache folder for the one-shot command. Only the columns the queue
shows are read, without ``review.runs`` and the exporters it imports.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from sqlalchemy import select

from pipeline.cache import cache_dir, content_key
from pipeline.embed import embed, load_embedder
from review.store import AssignmentRow, RespondentRow, Store, UnitRow

# Runs kept in memory by a process: a run of 10,000 answers (about 20,000 units) holds 40 MB of vectors.
RUNS_IN_MEMORY = 4
# A respondent's units are joined with this to give back the answer they were cut from.
UNIT_JOINER = " "


@dataclass(frozen=True)
class MachinePick:
    """The machine's theme for a unit, with its runner-up: their margin is a queue item's certainty before the
    queue learns."""

    score: float
    runner_up_id: str | None
    runner_up_score: float | None


@dataclass(frozen=True)
class QueueRun:
    """A recorded run's units in their order, with what a queue item shows of them."""

    run_id: str
    identity: tuple[str, str, str]  # store, run id, when recorded: a run id recorded again is another run
    key: str  # content identity (embedder, texts, lemmas): names the cached vectors and queue models
    embedder: str
    unit_ids: list[str]
    texts: list[str]
    lemmas: list[str]
    respondents: list[str]  # the respondent of each unit
    segments: dict[str, dict[str, str]]  # respondent -> segment values
    vectors: np.ndarray  # unit-normalised, one row per unit
    machine: dict[str, MachinePick]  # unit -> the machine's surest assignment

    @cached_property
    def position(self) -> dict[str, int]:
        return {unit_id: i for i, unit_id in enumerate(self.unit_ids)}

    def answer(self, i: int) -> tuple[str, int, int]:
        """The respondent's whole answer and where unit ``i`` sits in it (start, end).

        The answer is the respondent's units, in order: the store keeps the text as cleaned (names, e-mails
        and phone numbers masked), never the raw answer, and the cleaner cuts an answer into units without
        dropping any of it but list bullets and spacing.
        """
        respondent, parts, start = self.respondents[i], [], 0
        for j in _units_of(self, respondent, i):
            if j == i:
                start = sum(len(p) + len(UNIT_JOINER) for p in parts)
            parts.append(self.texts[j])
        return UNIT_JOINER.join(parts), start, start + len(self.texts[i])


def _units_of(run: QueueRun, respondent: str, i: int) -> range:
    """Units of one respondent are recorded next to each other: walk out from ``i``."""
    first, last = i, i
    while first > 0 and run.respondents[first - 1] == respondent:
        first -= 1
    while last + 1 < len(run.respondents) and run.respondents[last + 1] == respondent:
        last += 1
    return range(first, last + 1)


_RUNS: OrderedDict[tuple[str, str, str], QueueRun] = OrderedDict()
_RUNS_LOCK = threading.Lock()


def queue_run(store: Store, run_id: str) -> QueueRun:
    """The run as the queue needs it, from memory when this process read it before."""
    with store.session() as session:
        run = store.run(session, run_id)
        identity = (store.url, run_id, run.created_at.isoformat())
        embedder = run.embedder
    with _RUNS_LOCK:
        if identity in _RUNS:
            _RUNS.move_to_end(identity)
            return _RUNS[identity]
    loaded = _recorded(store, identity, embedder)
    with _RUNS_LOCK:
        _RUNS[identity] = loaded
        while len(_RUNS) > RUNS_IN_MEMORY:
            _RUNS.popitem(last=False)
    return loaded


def _recorded(store: Store, identity: tuple[str, str, str], embedder: str) -> QueueRun:
    """From the file this machine wrote when it first read the run, else from the store: reading the units of a
    run of 10,000 answers from SQLite took 0.9 s at each call of the command (bench/RESULTS.md, queue_speed)."""
    path = cache_dir() / "queue" / "runs" / f"{content_key(*identity)[:32]}.json"
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        machine = {unit_id: MachinePick(*pick) for unit_id, *pick in saved.pop("machine")}
        vectors = _vectors(saved["key"], embedder, saved["texts"])
        return QueueRun(identity[1], identity, embedder=embedder, vectors=vectors, machine=machine, **saved)
    run = _read(store, identity, embedder)
    columns = ("key", "unit_ids", "texts", "lemmas", "respondents", "segments")
    saved = {name: getattr(run, name) for name in columns}
    saved["machine"] = [[unit_id, p.score, p.runner_up_id, p.runner_up_score] for unit_id, p in run.machine.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"partial-{threading.get_ident()}-{path.name}")
    partial.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)  # atomic: a reader never sees half a file
    return run


def _read(store: Store, identity: tuple[str, str, str], embedder: str) -> QueueRun:
    run_id = identity[1]
    with store.session() as session:
        rows = session.execute(
            select(UnitRow.unit_id, UnitRow.text, UnitRow.lemmas, UnitRow.respondent_id)
            .where(UnitRow.run_id == run_id)
            .order_by(UnitRow.position)
        ).all()
        segments = dict(
            session.execute(
                select(RespondentRow.respondent_id, RespondentRow.segments).where(RespondentRow.run_id == run_id)
            ).all()
        )
        assignments = session.execute(
            select(AssignmentRow.unit_id, AssignmentRow.score, AssignmentRow.runner_up_id, AssignmentRow.runner_up_score)
            .where(AssignmentRow.run_id == run_id)
            .order_by(AssignmentRow.score)
        ).all()
    machine = {unit_id: MachinePick(score, other, other_score) for unit_id, score, other, other_score in assignments}
    unit_ids, texts, lemmas, respondents = (list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 4
    key = content_key(embedder, *texts, "\x01", *lemmas)
    vectors = _vectors(key, embedder, texts)
    return QueueRun(run_id, identity, key, embedder, unit_ids, texts, lemmas, respondents, segments, vectors, machine)


def run_folder(key: str) -> Path:
    """Where the queue keeps what it computed for one run's content."""
    folder = cache_dir() / "queue" / key[:32]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _vectors(key: str, embedder: str, texts: list[str]) -> np.ndarray:
    """One file per run: the 18,511 vectors of a run of 10,000 answers took 0.6 s more to read back from the
    embedding cache, key by key, than from this file."""
    path = run_folder(key) / "vectors.npy"
    if path.exists():
        return np.load(path)
    vectors, _ = embed(texts, load_embedder(embedder))
    partial = path.with_suffix(f".{threading.get_ident()}.tmp.npy")
    np.save(partial, vectors)
    partial.replace(path)  # atomic: a reader never sees half a file
    return vectors
