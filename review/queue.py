"""The review queue: which units a reviewer should look at first so that a few minutes fix the most.

Before enough reviews, the queue goes round the machine's nets: in each round, one open unit per net, its codes
taking turns, each code's unit the one nearest the code's centre (its most typical unit), the nets with the most
open units first. A reviewer who asks for one item per theme thus settles every net's core before its edges, and
the theme model trained on those reviews sees each net early. Once reviewers have settled enough units, a theme
model learns from them (``review.queue_model``: fitted once per set of reviews and kept), and the queue leads with
the units it is least sure of (1 - its highest probability).

Measured on ../shared/data/elf_dev.csv (bench/review_loop.py, one item per machine theme per session; weighted-F1
of the retrained theme model on the answers nobody reviewed after 50 / 100 reviewed answers, corrections in
brackets; random picks: mean of 3 seeds), with about sqrt(n) codes rolled into nets: going round the nets, FI7
0.507 (196) / 0.539 (349), DC13 0.496 (164) / 0.534 (293); going round the codes as before, FI7 0.515 (200) /
0.538 (333), DC13 0.478 (143) / 0.541 (254): behind random's DC13 0.481 at 50, where a round of one unit per code
spread the first answers over codes of a few units each. Random: FI7 0.486 (210) / 0.523 (391), DC13 0.481 (159) /
0.524 (306). The previous order (the units that say the most first, then doubt times log(1 + content
words)) was behind random: FI7 0.451 (313) / 0.505 (511), DC13 0.474 (293) / 0.518 (503); its long answers cost
more corrections each. Figures in bench/RESULTS.md (review loop); the queue's speed in queue_speed.

Each item carries what a reviewer needs to decide without opening the run: the whole answer with the unit's
place in it, the respondent's segments, and why the machine thinks so (``review.queue_context``).
"""

from __future__ import annotations

import heapq
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from pipeline import settings
from review.corrections import OFF_TOPIC, RunState, load_state
from review.guard import shortfall
from review.queue_context import (
    Neighbour,
    keyword_reasons,
    model_choices,
    neighbours,
    ranked,
    similarity_choices,
    theme_centres,
)
from review.queue_model import KEEPER, QueueModel, training
from review.queue_run import RUNS_IN_MEMORY, QueueRun, queue_run
from review.store import EventRow, Store

# The queue learns from reviews once this many units are settled, in at least two themes.
MIN_REVIEWED_TO_LEARN = 40


@dataclass(frozen=True)
class QueueItem:
    unit_id: str
    text: str
    theme_id: str
    theme_label: str
    runner_up_id: str | None  # the other theme worth considering
    runner_up_label: str | None
    certainty: float  # margin over the runner-up (machine) or the model's probability (learning queue)
    worth: float  # before the queue learns: its theme's share of the open units; then the model's doubt
    answer: str  # the respondent's whole answer (as cleaned: personal data masked)
    unit_start: int  # the unit's place in ``answer``: answer[unit_start:unit_end] == text
    unit_end: int
    segments: dict[str, str]  # the respondent's segment values
    probability: float | None  # the model's probability for ``theme_id``; None before the queue learns
    neighbours: tuple[Neighbour, ...]  # the nearest units reviewers settled, nearest first
    reasons: tuple[str, ...]  # the terms that weighed most toward ``theme_id``
    theme_choices: tuple[tuple[str, str, float], ...]  # every theme (id, label, probability or similarity), likeliest first
    # the unit's other themes (id, label), those whose label or marker words it holds (pipeline.label_codes): a
    # confirmation keeps them too, so the reviewer sees them; a move replaces ``theme_id`` only
    also: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class QueueProgress:
    reviewed: int  # units reviewers settled in this run
    open: int  # units still to review
    until_retrain: int  # reviews still needed before retraining is worth it (review.guard)
    held_out_f1: float | None  # the queue model's cross-validated macro-F1; None before it learns


@dataclass(frozen=True)
class QueueView:
    """One answer of the queue: the items at a run version, the progress, and the model that ordered them."""

    version: int
    items: list[QueueItem]
    progress: QueueProgress
    learnt_from: int | None  # reviewed units the ordering model learnt from; None: not learning yet
    refitted: bool  # this call waited for the model to learn reviews it had not seen
    behind: int = 0  # reviews the model that ordered this view has not learnt yet (being fitted elsewhere)


@dataclass(frozen=True)
class _Reviews:
    """A run's state split as the queue uses it."""

    state: RunState
    open: list[str]
    settled: list[int]  # rows of the reviewed units
    labels: list[list[str]]

    @property
    def can_learn(self) -> bool:
        return len(self.settled) >= MIN_REVIEWED_TO_LEARN and len({t for ls in self.labels for t in ls}) >= 2


def _reviews(run: QueueRun, state: RunState) -> _Reviews:
    open_units = [u for u, themes in state.labels.items() if themes and u not in state.reviewed and u not in state.off_topic]
    settled = sorted(run.position[u] for u in state.reviewed if u in run.position)
    labels = [[OFF_TOPIC] if run.unit_ids[r] in state.off_topic else state.labels[run.unit_ids[r]] for r in settled]
    return _Reviews(state, open_units, settled, labels)


def review_queue(store: Store, run_id: str, limit: int = 20, fresh: bool = True) -> tuple[int, list[QueueItem]]:
    """The units to review first, and the run version they were read at (for stale-view checks)."""
    view = queue_view(store, run_id, limit, fresh)
    return view.version, view.items


def queue_view(store: Store, run_id: str, limit: int = 20, fresh: bool = True, in_thread: bool = True) -> QueueView:
    """The queue with its progress. After new reviews, ``fresh=False`` answers at once from the model fitted
    before them and refits in a background thread (a server; with ``in_thread=False`` the caller starts the fit
    elsewhere: ``refit_detached``); ``fresh=True`` waits for the refit."""
    run = queue_run(store, run_id)
    reviews = _reviews(run, _state(store, run))
    model, refitted, behind = None, False, 0
    if reviews.can_learn:
        wanted = training(run, reviews.settled, reviews.labels)
        if fresh or in_thread or KEEPER.latest(run) is not None:
            model, refitted = KEEPER.model(run, wanted, fresh, in_thread)
        # a caller fitting elsewhere with no model yet answers in the machine's order while the first one is fitted
        learnt_yet = model.n_reviewed if model is not None else 0
        behind = 0 if model is not None and model.trained_on == wanted.key else max(len(wanted.rows) - learnt_yet, 1)
    centres = theme_centres(run, reviews.state) if model is None else None
    ordered = _least_confident(run, reviews, model) if model is not None else _round_robin(run, reviews, centres)
    top = _first(ordered, limit)
    items = [_item(run, reviews, model, centres, pick) for pick in top]
    learnt = model.n_reviewed if model else None
    return QueueView(reviews.state.version, items, _progress(reviews, model), learnt, refitted, behind)


# What a detached refit runs: the queue of the run given on stdin, waiting for its model (the URL goes by stdin,
# not argv, so that a database password never shows in the process list).
_REFIT = (
    "import sys; from review.queue import queue_view; from review.store import Store; "
    "url, run_id = sys.stdin.read().splitlines()[:2]; queue_view(Store(url), run_id, limit=1, fresh=True)"
)


def refit_detached(store: Store, run_id: str) -> None:
    """Fit the queue model of the run's current reviews in a process of its own that outlives the caller: a
    command answers at once from the last model (``fresh=False, in_thread=False``) and leaves this fit running; the
    next call finds the new model saved. On a run of 10,000 answers the command waited 4.9 to 5.3 s for the fit."""
    child = subprocess.Popen(
        [sys.executable, "-c", _REFIT],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not killed with the command's terminal session
        text=True,
        env={**os.environ, "VERBATIMS_CACHE": str(settings.current().cache)},  # the folder a --cache flag named
    )
    child.stdin.write(f"{store.url}\n{run_id}\n")
    child.stdin.close()


def queue_progress(store: Store, run_id: str) -> QueueProgress:
    """How many units are reviewed and open, how many more before a retrain is worth it, and the queue model's
    held-out F1 (the last one fitted: this never fits)."""
    run = queue_run(store, run_id)
    reviews = _reviews(run, _state(store, run))
    return _progress(reviews, KEEPER.latest(run) if reviews.can_learn else None)


_STATES: dict[tuple[str, str, str], RunState] = {}  # run identity -> its state at the last version read
_STATES_LOCK = threading.Lock()


def _state(store: Store, run: QueueRun) -> RunState:
    """The run's reviewed state, replayed again only when a review event came since the last call: events only
    ever append, so the last sequence number names the state (replaying 18,511 units took 0.9 s)."""
    with store.session() as session:
        version = session.scalar(select(func.max(EventRow.seq)).where(EventRow.run_id == run.run_id)) or 0
    with _STATES_LOCK:
        known = _STATES.get(run.identity)
    if known is not None and known.version == version:
        return known
    state = load_state(store, run.run_id)
    with _STATES_LOCK:
        _STATES.pop(run.identity, None)
        _STATES[run.identity] = state  # newest last: the oldest run goes first
        while len(_STATES) > RUNS_IN_MEMORY:
            del _STATES[next(iter(_STATES))]
    return state


def _progress(reviews: _Reviews, model: QueueModel | None) -> QueueProgress:
    short = shortfall(reviews.labels)
    until_retrain = max(short.total_missing, sum(short.themes_short.values()))
    f1 = model.held_out_f1 if model else None
    return QueueProgress(len(reviews.settled), len(reviews.open), until_retrain, f1)


@dataclass(frozen=True)
class _Pick:
    """A listed unit's place in the queue."""

    unit_id: str
    theme_id: str
    runner_up_id: str | None  # the machine's runner-up; the model's is found for the listed units only
    certainty: float
    worth: float


@dataclass
class _Order:
    """Every open unit's place, as columns: 18,511 units of a run of 10,000 answers are ranked at each call,
    and only the few listed become items."""

    unit_ids: list[str]
    themes: list[str]
    runner_ups: list[str | None]
    certainty: list[float]
    worth: list[float]
    rounds: list[int]  # before the queue learns: the unit's rank by nearness to its theme's centre; then 0


def _first(order: _Order, limit: int) -> list[_Pick]:
    """The ``limit`` most worth a look: round by round, most worth first, least certain first among equals."""

    def key(i: int) -> tuple[int, float, float, str]:
        return order.rounds[i], -order.worth[i], order.certainty[i], order.unit_ids[i]

    return [
        _Pick(order.unit_ids[i], order.themes[i], order.runner_ups[i], order.certainty[i], order.worth[i])
        for i in heapq.nsmallest(limit, range(len(order.unit_ids)), key=key)
    ]


def _least_confident(run: QueueRun, reviews: _Reviews, model: QueueModel) -> _Order:
    """Doubt alone (1 - the highest probability): weighing it by log(1 + content words) as before led with long
    answers that cost more corrections and were behind random picks (module docstring)."""
    rows = [run.position[u] for u in reviews.open]
    certainty = model.probabilities[rows].max(axis=1).tolist() if rows else []
    worth = [round(1 - c, 4) for c in certainty]
    themes = [reviews.state.labels[u][0] for u in reviews.open]
    return _Order(reviews.open, themes, [None] * len(rows), certainty, worth, [0] * len(rows))


def _round_robin(run: QueueRun, reviews: _Reviews, centres: tuple[list[str], np.ndarray]) -> _Order:
    """Before the queue learns: round r holds each net's r-th open unit, its codes taking turns (the largest
    first), each code's units by nearness to the code's centre. Within a round the nets with the most open units
    come first (``worth``: the net's share of them): a page shorter than the number of nets then covers those
    that carry the most units, which weigh the most in weighted-F1. Nets rather than codes: with about sqrt(n)
    codes a round of one unit per code spread the first 50 answers over codes of a few units each (DC13: 0.478
    against random's 0.481 after 50 answers; bench/RESULTS.md)."""
    state, order = reviews.state, _Order([], [], [], [], [], [])
    members: dict[str, list[str]] = {}
    for unit_id in reviews.open:
        if unit_id in run.machine:  # the machine's margin is the item's certainty
            members.setdefault(state.labels[unit_id][0], []).append(unit_id)
    centre_of = dict(zip(*centres, strict=True))
    total = sum(len(units) for units in members.values())
    nets: dict[str, list[str]] = {}
    for theme in sorted(members, key=lambda t: (-len(members[t]), t)):
        known = state.themes.get(theme)
        nets.setdefault(known.net_id if known and known.net_id else theme, []).append(theme)
    for codes in nets.values():
        share = round(sum(len(members[t]) for t in codes) / total, 4)
        for turn, theme in enumerate(codes):
            units = members[theme]
            nearness = run.vectors[[run.position[u] for u in units]] @ centre_of[theme]
            for rank, n in enumerate(np.argsort(-nearness, kind="stable")):
                machine = run.machine[units[n]]
                runner_up = state.resolve(machine.runner_up_id)
                runner_up = runner_up if runner_up in state.themes and runner_up != theme else None
                other = machine.runner_up_score
                margin = machine.score - other if runner_up and other is not None else machine.score
                order.unit_ids.append(units[n])
                order.themes.append(theme)
                order.runner_ups.append(runner_up)
                order.certainty.append(round(margin, 4))
                order.worth.append(share)
                order.rounds.append(rank * len(codes) + turn)
    return order


def _item(run: QueueRun, reviews: _Reviews, model: QueueModel | None, centres, pick: _Pick) -> QueueItem:
    state, row = reviews.state, run.position[pick.unit_id]
    answer, start, end = run.answer(row)
    keywords = keyword_reasons(run.lemmas[row], state.themes[pick.theme_id].keywords)
    if model is not None:
        chances, reasons = model_choices(model, row, state), model.reasons(row, pick.theme_id) or keywords
        runner_up = next((t for t in _likeliest(chances) if t != pick.theme_id), None)
    else:
        chances, reasons, runner_up = similarity_choices(run, row, centres), keywords, pick.runner_up_id
    return QueueItem(
        pick.unit_id,
        run.texts[row],
        pick.theme_id,
        state.themes[pick.theme_id].label,
        runner_up,
        state.themes[runner_up].label if runner_up else None,
        pick.certainty,
        pick.worth,
        answer,
        start,
        end,
        dict(run.segments.get(run.respondents[row], {})),
        chances[pick.theme_id] if model is not None else None,
        neighbours(run, row, reviews.settled, state),
        reasons,
        ranked(chances, state),
        tuple((t, state.themes[t].label) for t in state.labels.get(pick.unit_id, []) if t != pick.theme_id),
    )


def _likeliest(chances: dict[str, float]) -> list[str]:
    return sorted(chances, key=lambda t: -chances[t])
