"""Retrain the theme model from reviewers' corrections, and promote it only when it is not worse."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from pipeline.codebook import Codebook, codebook_seeds
from pipeline.embed import embed, load_embedder
from pipeline.errors import InputError
from pipeline.registry import SavedModel, load_model, promote, promoted_version, save_model
from pipeline.review import OFF_TOPIC, load_state
from pipeline.store import EventRow, Run, Store, UnitRow, text_key
from pipeline.train import ThemeClassifier, cross_validated_f1, macro_f1, training_hash


@dataclass
class TrainingSet:
    """Reviewed units (one per distinct text, the latest review winning) and the context to learn from."""

    texts: list[str]
    lemmas: list[str]
    label_sets: list[list[str]]
    corpus_lemmas: list[str]
    theme_labels: dict[str, str]
    runs: list[str]
    embedder: str


def training_set(store: Store, run_ids: list[str] | None = None) -> TrainingSet:
    with store.session() as session:
        reviewed_runs = select(EventRow.run_id).distinct()
        query = select(Run).where(Run.run_id.in_(run_ids) if run_ids else Run.run_id.in_(reviewed_runs))
        runs = list(session.scalars(query.order_by(Run.created_at)))
    if run_ids and len(runs) < len(set(run_ids)):
        missing = set(run_ids) - {r.run_id for r in runs}
        raise InputError(f"unknown run(s): {', '.join(sorted(missing))}")
    if not runs:
        raise InputError("no reviewed run yet: correct or confirm some units with `verbatims review` first")
    if len({r.embedder for r in runs}) > 1:
        raise InputError("the runs were embedded with different models; retrain them separately (--run)")
    items: dict[str, tuple[str, str, list[str]]] = {}
    corpus: list[str] = []
    labels: dict[str, str] = {OFF_TOPIC: "Hors sujet"}
    for run in runs:
        state = load_state(store, run.run_id)
        labels.update({t: s.label for t, s in state.themes.items()})
        with store.session() as session:
            units = session.execute(
                select(UnitRow.unit_id, UnitRow.text, UnitRow.lemmas).where(UnitRow.run_id == run.run_id)
            ).all()
        for unit_id, text, lemmas in units:
            corpus.append(lemmas)
            if unit_id in state.reviewed:
                themes = [OFF_TOPIC] if unit_id in state.off_topic else state.labels[unit_id]
                items[text_key(text)] = (text, lemmas, themes)
    if not items:
        raise InputError("the runs have no reviewed unit yet: move, add or confirm units with `verbatims review`")
    texts, lemmas, label_sets = (list(column) for column in zip(*items.values(), strict=True))
    return TrainingSet(texts, lemmas, label_sets, corpus, labels, [r.run_id for r in runs], runs[-1].embedder)


@dataclass
class RetrainReport:
    version: str
    f1: float
    previous_version: str | None
    previous_f1: float | None
    promoted: bool
    n_items: int

    @property
    def summary(self) -> str:
        before = f"{self.previous_version} {self.previous_f1:.3f}" if self.previous_version else "no previous model"
        verdict = "promoted" if self.promoted else "kept the previous model (the new one is worse)"
        return (
            f"model {self.version}: cross-validated macro-F1 {self.f1:.3f} on {self.n_items} reviewed units "
            f"(previous: {before}); {verdict}"
        )


def retrain(
    store: Store, run_ids: list[str] | None = None, codebook: Codebook | None = None, by: str = "retrain"
) -> RetrainReport:
    data = training_set(store, run_ids)
    embedder = load_embedder(data.embedder)
    vectors, _ = embed(data.texts, embedder)
    extra = None
    if codebook is not None:  # each codebook entry is one more training example of its theme
        seeds = codebook_seeds(codebook, embedder)
        extra = (seeds.embeddings, seeds.lemmas, [[t.theme_id] for t in codebook.themes])
    f1 = cross_validated_f1(vectors, data.lemmas, data.label_sets, data.corpus_lemmas, extra)
    previous_version, previous_f1 = promoted_version(store), None
    if previous_version:
        _, previous = load_model(store, previous_version)
        predicted = previous.classifier.predict(vectors, data.lemmas)
        previous_f1 = macro_f1(data.label_sets, predicted)
    x, words, labels = vectors, data.lemmas, data.label_sets
    if extra is not None:
        x, words, labels = np.vstack([x, extra[0]]), words + extra[1], labels + extra[2]
        data.theme_labels.update({t.theme_id: t.label for t in codebook.themes if t.theme_id not in data.theme_labels})
    classifier = ThemeClassifier().fit(x, words, labels, data.corpus_lemmas)
    theme_labels = {t: data.theme_labels.get(t, t) for t in classifier.classes_}
    metrics = {
        "cv_macro_f1": round(f1, 4),
        "previous_version": previous_version,
        "previous_macro_f1": None if previous_f1 is None else round(previous_f1, 4),
        "themes": len(classifier.classes_),
    }
    row = save_model(
        store,
        SavedModel(classifier, theme_labels, data.embedder),
        metrics,
        training_hash(data.texts, data.label_sets),
        len(data.texts),
        data.runs,
        None if codebook is None else {"question": codebook.question, "themes": [t.theme_id for t in codebook.themes]},
    )
    promoted = previous_f1 is None or f1 >= previous_f1
    if promoted:
        promote(
            store,
            row.version,
            by,
            reason=f"retrained: macro-F1 {f1:.3f} vs {previous_f1 if previous_f1 is not None else 'none'}",
        )
    return RetrainReport(row.version, f1, previous_version, previous_f1, promoted, len(data.texts))
