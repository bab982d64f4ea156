"""Why the queue proposes a theme: the nearest units reviewers already settled, the words that weighed,
and every theme of the run from the likeliest down, for a reviewer to pick from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.nets import group_centres
from review.corrections import OFF_TOPIC, RunState
from review.queue_model import QueueModel
from review.queue_run import QueueRun

# The off-topic pseudo-theme as a reviewer reads it beside a neighbour (as retraining labels it).
OFF_TOPIC_LABEL = "Hors sujet"
NEIGHBOURS = 3
REASONS = 3


@dataclass(frozen=True)
class Neighbour:
    """An already-reviewed unit close to the one shown, and the themes reviewers gave it."""

    unit_id: str
    text: str
    theme_ids: tuple[str, ...]
    theme_labels: tuple[str, ...]
    similarity: float  # cosine of the two units' sentence vectors


def neighbours(run: QueueRun, row: int, reviewed: list[int], state: RunState) -> tuple[Neighbour, ...]:
    """The ``NEIGHBOURS`` reviewed units nearest to unit ``row``, nearest first."""
    if not reviewed:
        return ()
    similarity = run.vectors[reviewed] @ run.vectors[row]
    found = []
    for j in np.argsort(-similarity)[:NEIGHBOURS]:
        unit_id = run.unit_ids[reviewed[j]]
        themes = (OFF_TOPIC,) if unit_id in state.off_topic else tuple(state.labels[unit_id])
        labels = tuple(OFF_TOPIC_LABEL if t == OFF_TOPIC else state.themes[t].label for t in themes)
        found.append(Neighbour(unit_id, run.texts[reviewed[j]], themes, labels, round(float(similarity[j]), 4)))
    return tuple(found)


def keyword_reasons(lemmas: str, keywords: list[str]) -> tuple[str, ...]:
    """Before the queue learns: the theme's keywords (lemmas or lemma pairs) found in the unit's lemmas."""
    padded = f" {lemmas} "
    return tuple(k for k in keywords if f" {k} " in padded)[:REASONS]


def model_choices(model: QueueModel, row: int, state: RunState) -> dict[str, float]:
    """Each active theme's probability under the model; a theme it never saw reviewed gets 0."""
    chance = dict.fromkeys(state.themes, 0.0)
    for theme_id, p in zip(model.classes, model.probabilities[row], strict=True):
        theme_id = state.resolve(theme_id)  # merged since the model was fitted: the theme it went into
        if theme_id in chance:
            chance[theme_id] = max(chance[theme_id], round(float(p), 4))
    return chance


def theme_centres(run: QueueRun, state: RunState) -> tuple[list[str], np.ndarray]:
    """The active themes and the unit-normalised mean vector of the units they hold as their main theme now (a
    unit's further themes, its words' or a reviewer's, would pull a centre towards the unit's own theme, as
    ``pipeline.nets.nearest_assignments`` says)."""
    rows: dict[str, list[int]] = {t: [] for t in state.themes}
    for unit_id, labels in state.labels.items():
        if unit_id in state.off_topic or unit_id not in run.position or not labels:
            continue
        if labels[0] in rows:
            rows[labels[0]].append(run.position[unit_id])
    return list(rows), group_centres(list(rows.values()), run.vectors).astype(np.float32)


def similarity_choices(run: QueueRun, row: int, centres: tuple[list[str], np.ndarray]) -> dict[str, float]:
    """Before the queue learns: each active theme's cosine similarity to the unit."""
    theme_ids, vectors = centres
    return {t: round(float(s), 4) for t, s in zip(theme_ids, vectors @ run.vectors[row], strict=True)}


def ranked(chances: dict[str, float], state: RunState) -> tuple[tuple[str, str, float], ...]:
    """(id, label, chance) of every active theme, likeliest first, ties by label."""
    order = sorted(chances, key=lambda t: (-chances[t], state.themes[t].label))
    return tuple((t, state.themes[t].label, chances[t]) for t in order)
