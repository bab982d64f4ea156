"""Apply a trained theme model to a new wave: known themes keep their ids and labels, units the model is
unsure of are clustered into proposed new themes for review, and shares are compared with the previous wave.

A model below the promotion guard (promoted by hand) is refused unless forced, and then flagged; shares
that moved beyond what chance explains between two waves are flagged (``review.drift``). Flags are French
sentences kept in the run's parameters under ``pipeline.export.ALERTS``: the CLI, the run page and report.md show them."""

from __future__ import annotations

import numpy as np
from sqlalchemy import distinct, func, select

from pipeline.errors import InputError
from pipeline.messages import decimal
from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, ClusterResult, Excluded, IdeaUnit, Theme
from pipeline.significance import wave_changes
from pipeline.themes import find_themes
from review.corrections import OFF_TOPIC
from review.drift import share_moves
from review.guard import unmet
from review.model_registry import SavedModel
from review.store import Store, UnitRow
from review.train import CONFIDENT_PROBABILITY, SECOND_THEME_PROBABILITY

# Fewer unsure units than this are too few to propose a theme from: they go to "Autres".
MIN_UNSURE_FOR_NEW_THEMES = 10
PROPOSED_PREFIX = "Nouveau ? "


def classify_units(
    model: SavedModel, version: str, units: list[IdeaUnit], vectors: np.ndarray
) -> tuple[ClusterResult, list[int], list[Excluded]]:
    """Themes for units; returns the result, the indices of units kept and the units set aside as off-topic."""
    classes = model.classifier.classes_
    probabilities = model.classifier.predict_proba(vectors, [u.lemmas for u in units])
    assignments: list[Assignment] = []
    unsure: list[int] = []
    keep: list[int] = []
    off_topic: list[Excluded] = []
    for i, row in enumerate(probabilities):
        order = np.argsort(-row)
        best = order[0]
        if row[best] < CONFIDENT_PROBABILITY:
            unsure.append(i)
            keep.append(i)
            continue
        if classes[best] == OFF_TOPIC:
            off_topic.append(Excluded(units[i].respondent_id, units[i].text, f"off-topic (model {version})"))
            continue
        keep.append(i)
        chosen = [j for j in order if classes[j] != OFF_TOPIC and (j == best or row[j] >= SECOND_THEME_PROBABILITY)]
        runner_up = next((j for j in order if j not in chosen and classes[j] != OFF_TOPIC), None)
        for j in chosen:
            assignments.append(
                Assignment(
                    units[i].unit_id,
                    classes[j],
                    round(float(row[j]), 4),
                    classes[runner_up] if runner_up is not None else None,
                    round(float(row[runner_up]), 4) if runner_up is not None else None,
                )
            )
    nets = model.nets()  # each known theme in its net as reviewed (a proposed theme gets one when netted)
    themes: dict[str, Theme] = {}
    for t in dict.fromkeys(a.theme_id for a in assignments):
        net_id, net_label = nets.get(t, ("", ""))
        themes[t] = Theme(t, model.theme_labels.get(t, t), [], from_codebook=False, net_id=net_id, net_label=net_label)
    proposed = _propose(units, vectors, unsure, model.stop_words)
    for theme in proposed.themes:
        themes.setdefault(theme.theme_id, theme)
    parameters = {"model": version, "unsure_units": len(unsure), "proposed_themes": sum(t.proposed for t in themes.values())}
    return ClusterResult(list(themes.values()), assignments + proposed.assignments, parameters), keep, off_topic


def _propose(units: list[IdeaUnit], vectors: np.ndarray, unsure: list[int], stop_words: tuple[str, ...]) -> ClusterResult:
    if not unsure:
        return ClusterResult([], [], {})
    if len(unsure) < MIN_UNSURE_FOR_NEW_THEMES:
        other = Theme(OTHER_ID, OTHER_LABEL, [])
        return ClusterResult([other], [Assignment(units[i].unit_id, OTHER_ID, 0.0) for i in unsure], {})
    found = find_themes([units[i] for i in unsure], vectors[unsure], stop_words=stop_words)
    renamed = {
        t.theme_id: (t.theme_id if t.theme_id == OTHER_ID else "p-" + t.theme_id.removeprefix("t-")) for t in found.themes
    }
    themes = [
        Theme(
            renamed[t.theme_id],
            t.label if t.theme_id == OTHER_ID else PROPOSED_PREFIX + t.label,
            t.keywords,
            proposed=t.theme_id != OTHER_ID,
        )
        for t in found.themes
    ]
    assignments = [Assignment(a.unit_id, renamed[a.theme_id], a.score) for a in found.assignments]
    return ClusterResult(themes, assignments, {})


def add_share_changes(themes: list[Theme], previous: dict[str, float], previous_base: int = 0, base: int = 0) -> None:
    """Share change in points against the previous wave, tested when both waves' respondents are known and enough
    (``pipeline.significance.wave_changes``: z-tests, Benjamini-Hochberg over the themes); none for a theme proposed
    in this wave."""
    known = [t for t in themes if not t.proposed]
    changes = wave_changes(previous, previous_base, {t.theme_id: t.share for t in known}, base)
    for theme, change in zip(known, changes, strict=True):
        theme.change_pts = round(100 * (theme.share - change.previous_share), 1)
        theme.previous_share, theme.previous_base = change.previous_share, previous_base
        theme.change_p, theme.change_significant = change.p_adjusted, change.significant


def model_alerts(version: str, metrics: dict, force: bool) -> list[str]:
    """A model below the guard is refused (InputError) unless ``force``; forced, the wave says so."""
    reason = unmet(metrics)
    if reason is None:
        return []
    if not force:
        raise InputError(
            f"le modèle {version} n'a pas vu assez de revues pour classer une vague : {reason}. Revoyez d'autres "
            "unités puis réentraînez, ou appliquez-le quand même avec --force (la vague sera signalée)."
        )
    return [f"Modèle {version} appliqué sous le seuil de mise en service : {reason}."]


def respondents_in(store: Store, run_id: str) -> int:
    """Respondents analysed in a run: the size of the sample its shares are proportions of."""
    with store.session() as session:
        query = select(func.count(distinct(UnitRow.respondent_id))).where(UnitRow.run_id == run_id)
        return session.scalar(query) or 0


def drift_alerts(
    themes: list[Theme], previous: dict[str, float], n_before: int, n_after: int, model: SavedModel
) -> list[str]:
    """The model's themes whose share moved beyond sampling noise since the previous wave, in French."""
    known = set(model.classifier.classes_) - {OFF_TOPIC}
    after = {t.theme_id: t.share for t in themes if t.theme_id in known}
    before = {t: share for t, share in previous.items() if t in known}
    return [
        f"« {model.theme_labels.get(m.theme_id, m.theme_id)} » passe de {_pct(m.before)} à {_pct(m.after)} "
        f"({decimal(m.points, '+.1f')} pt) : plus que le hasard n'explique entre deux vagues de {n_before} et "
        f"{n_after} répondants (± {decimal(100 * m.bound, '.1f')} pt) ; vérifiez ces réponses avant de publier."
        for m in share_moves(before, n_before, after, n_after)
    ]


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"
