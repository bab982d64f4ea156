"""The review queue: which units a reviewer should look at first so that a few minutes fix the most.

A unit that says more carries more themes: human coders gave 1.3 to 2.1 themes to answers of under 5 words
and 4.0 to 5.2 to answers of over 40 (three questions of ../shared/data). Reviewing such a unit teaches the
theme model several themes at once, so the queue weighs doubt by how much a unit says. Before enough
reviews, the machine's own doubt (the margin between a unit's theme and the runner-up) picked no better
than chance, and the queue leads with the units that say the most, smallest margin first among equals.
Once reviewers have settled enough units, a theme model is fitted on them each time the queue is asked
for, and the queue leads with the units it is least sure of, weighed by what they say.
Measured against random picks in bench/RESULTS.md (review loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from pipeline.embed import embed, load_embedder
from pipeline.records import IdeaUnit
from review.corrections import OFF_TOPIC, RunState, load_state
from review.runs import load_run
from review.store import AssignmentRow, Store
from review.train import ThemeClassifier

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
    worth: float  # the queue's order: log(1 + content words), times the model's doubt once it learns


def review_queue(store: Store, run_id: str, limit: int = 20) -> tuple[int, list[QueueItem]]:
    """The units to review first, and the run version they were read at (for stale-view checks)."""
    state = load_state(store, run_id)
    stored = load_run(store, run_id)
    units = {u.unit_id: u for u in stored.units}
    open_units = [u for u, themes in state.labels.items() if themes and u not in state.reviewed and u not in state.off_topic]
    settled = [u for u in state.reviewed if u in units]
    labels = [[OFF_TOPIC] if u in state.off_topic else state.labels[u] for u in settled]
    if len(settled) >= MIN_REVIEWED_TO_LEARN and len({t for ls in labels for t in ls}) >= 2:
        vectors, _ = embed([units[u].text for u in settled + open_units], load_embedder(stored.run.embedder))
        model = ThemeClassifier().fit(
            vectors[: len(settled)], [units[u].lemmas for u in settled], labels, [u.lemmas for u in stored.units]
        )
        items = _least_confident(model, vectors[len(settled) :], open_units, units, state)
    else:
        items = _fullest_first(store, run_id, open_units, units, state)
    return state.version, sorted(items, key=lambda q: (-q.worth, q.certainty, q.unit_id))[:limit]


def _content(unit: IdeaUnit) -> float:
    return math.log1p(len(unit.lemmas.split()))


def _least_confident(model: ThemeClassifier, vectors, open_units, units, state: RunState) -> list[QueueItem]:
    probabilities = model.predict_proba(vectors, [units[u].lemmas for u in open_units])
    classes = model.classes_
    items = []
    for unit_id, row in zip(open_units, probabilities, strict=True):
        theme = state.labels[unit_id][0]
        suggestion = next((classes[j] for j in np.argsort(-row) if classes[j] != theme), None)
        suggestion = suggestion if suggestion in state.themes else None
        certainty = float(row.max())
        items.append(_item(unit_id, units, state, theme, suggestion, certainty, (1 - certainty) * _content(units[unit_id])))
    return items


def _fullest_first(store: Store, run_id: str, open_units, units, state: RunState) -> list[QueueItem]:
    with store.session() as session:
        rows = session.scalars(select(AssignmentRow).where(AssignmentRow.run_id == run_id)).all()
    best: dict[str, AssignmentRow] = {}
    for row in rows:
        if row.unit_id not in best or row.score > best[row.unit_id].score:
            best[row.unit_id] = row
    items = []
    for unit_id in open_units:
        row, theme = best.get(unit_id), state.labels[unit_id][0]
        if row is None:
            continue
        runner_up = state.resolve(row.runner_up_id)
        runner_up = runner_up if runner_up in state.themes and runner_up != theme else None
        margin = row.score - row.runner_up_score if runner_up and row.runner_up_score is not None else row.score
        items.append(_item(unit_id, units, state, theme, runner_up, round(margin, 4), _content(units[unit_id])))
    return items


def _item(unit_id, units, state: RunState, theme: str, other: str | None, certainty: float, worth: float) -> QueueItem:
    return QueueItem(
        unit_id,
        units[unit_id].text,
        theme,
        state.themes[theme].label,
        other,
        state.themes[other].label if other else None,
        certainty,
        round(worth, 4),
    )
