"""Retrain the theme model from reviewers' corrections; promote it only when it has seen enough reviewed units
(review.guard) and is not worse than the promoted one. Otherwise it stays a candidate an admin may promote."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from pipeline.codebook import Codebook, codebook_seeds
from pipeline.embed import embed, load_embedder
from pipeline.errors import InputError, NotFoundError
from pipeline.messages import decimal, plural, say
from review.corrections import OFF_TOPIC, load_state
from review.guard import Shortfall, as_metrics, describe, shortfall
from review.model_registry import SavedModel, load_model, promote, promoted_version, save_model
from review.store import EventRow, Run, Store, UnitRow, text_key
from review.train import ThemeClassifier, cross_validated_predictions, macro_f1, training_hash


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
    stop_words: list[str]  # the runs' question vocabulary, kept out of proposed themes' keywords
    theme_nets: dict[str, tuple[str, str]] = field(default_factory=dict)  # theme -> (net id, label), as reviewed


def training_set(store: Store, run_ids: list[str] | None = None) -> TrainingSet:
    with store.session() as session:
        reviewed_runs = select(EventRow.run_id).distinct()
        query = select(Run).where(Run.run_id.in_(run_ids) if run_ids else Run.run_id.in_(reviewed_runs))
        runs = list(session.scalars(query.order_by(Run.created_at)))
    if run_ids and len(runs) < len(set(run_ids)):
        missing = set(run_ids) - {r.run_id for r in runs}
        raise NotFoundError(say("retrain.unknown_runs", runs=", ".join(sorted(missing))))
    if not runs:
        raise InputError(say("retrain.no_reviewed_run"))
    if len({r.embedder for r in runs}) > 1:
        raise InputError(say("retrain.embedders"))
    items: dict[str, tuple[str, str, list[str]]] = {}
    corpus: list[str] = []
    labels: dict[str, str] = {OFF_TOPIC: "Hors sujet"}
    nets: dict[str, tuple[str, str]] = {}
    for run in runs:
        state = load_state(store, run.run_id)
        labels.update({t: s.label for t, s in state.themes.items()})
        nets.update({t: state.net_of(t) for t in state.themes})  # the latest run's nets win
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
        raise InputError(say("retrain.no_reviewed_idea"))
    texts, lemmas, label_sets = (list(column) for column in zip(*items.values(), strict=True))
    stop_words = sorted({w for run in runs for w in run.parameters.get("stop_words", ())})
    run_ids = [r.run_id for r in runs]
    return TrainingSet(texts, lemmas, label_sets, corpus, labels, run_ids, runs[-1].embedder, stop_words, nets)


def any_reviewed(store: Store) -> bool:
    """Whether some run has a reviewed unit, so that retraining has something to learn from."""
    with store.session() as session:
        run_ids = list(session.scalars(select(EventRow.run_id).distinct()))
    return any(load_state(store, run_id).reviewed for run_id in run_ids)


# The previous model is judged on reviews it never learnt from, when there are at least this many.
MIN_FRESH_ITEMS = 10
# review.train's cross-validation refuses fewer units (5 folds need at least 4 to leave one out).
MIN_CV_ITEMS = 4


@dataclass
class RetrainReport:
    version: str
    f1: float  # cross-validated, on every reviewed unit
    previous_version: str | None
    compared_on: str  # which units the new and previous models were compared on
    new_f1_compared: float | None
    previous_f1: float | None
    promoted: bool
    n_items: int
    shortfall: Shortfall  # what the reviewed units lack before a model may be promoted
    theme_labels: dict[str, str] = field(default_factory=dict)  # to name short themes

    @property
    def summary(self) -> str:
        """In French, for the admin who asked: the score, the comparison, and why it is or is not in service."""
        reviewed = plural(self.n_items, "reviewed_idea")
        parts = [f"modèle {self.version} : macro-F1 en validation croisée {_fr(self.f1)} sur {reviewed}"]
        if self.previous_version is not None:
            parts.append(
                f"face à {self.previous_version} sur {self.compared_on} : {_fr(self.new_f1_compared)} contre "
                f"{_fr(self.previous_f1)}"
            )
        stays = f" ; {self.previous_version} reste en service" if self.previous_version else ""
        if not self.shortfall.ok:
            parts.append(f"non mis en service, gardé comme candidat : {describe(self.shortfall, self.theme_labels)}{stays}")
        elif self.promoted:
            parts.append("premier modèle, mis en service" if self.previous_version is None else "mis en service")
        else:
            parts.append(f"non mis en service, le nouveau est moins bon{stays}")
        return " ; ".join(parts)


def _fr(value: float | None) -> str:
    return "-" if value is None else decimal(value, ".3f")


def _compare(store: Store, data: TrainingSet, vectors: np.ndarray, predicted: list[list[str]], f1: float):
    """The new model's cross-validated predictions against the previous model's, on a fair set of units.

    A model scores well on the units it learnt from, so the previous one is judged on reviews made since
    it was trained; when there are too few, on its own cross-validated F1 of its training time.
    """
    version = promoted_version(store)
    if version is None:
        return None, "", None, None
    row, previous = load_model(store, version)
    fresh = [i for i, text in enumerate(data.texts) if text_key(text) not in previous.training_keys]
    if len(fresh) < MIN_FRESH_ITEMS:
        return version, "sa validation croisée à l'entraînement", round(f1, 4), row.metrics["cv_macro_f1"]  # as stored
    gold = [data.label_sets[i] for i in fresh]
    theirs = previous.classifier.predict(vectors[fresh], [data.lemmas[i] for i in fresh])
    ours = macro_f1(gold, [predicted[i] for i in fresh])
    return version, f"{plural(len(fresh), 'reviewed_idea')} depuis son entraînement", ours, macro_f1(gold, theirs)


def _trainable(data: TrainingSet, gap: Shortfall) -> None:
    """Too few reviews even for a candidate: cross-validation needs 4 units and a model two themes."""
    if len(data.texts) < MIN_CV_ITEMS or len({t for ls in data.label_sets for t in ls}) < 2:
        raise InputError(say("retrain.too_few", n=MIN_CV_ITEMS, gap=describe(gap, data.theme_labels)))


def retrain(
    store: Store, run_ids: list[str] | None = None, codebook: Codebook | None = None, by: str = "retrain"
) -> RetrainReport:
    data = training_set(store, run_ids)
    gap = shortfall(data.label_sets)  # reviewed units only: a codebook entry is one seed, not a review
    _trainable(data, gap)
    embedder = load_embedder(data.embedder)
    vectors, _ = embed(data.texts, embedder)
    extra = None
    if codebook is not None:  # each codebook entry is one more training example of its theme
        seeds = codebook_seeds(codebook, embedder)
        extra = (seeds.embeddings, seeds.lemmas, [[t.theme_id] for t in codebook.themes])
    predicted = cross_validated_predictions(vectors, data.lemmas, data.label_sets, data.corpus_lemmas, extra)
    f1 = macro_f1(data.label_sets, predicted)
    previous_version, compared_on, new_f1, previous_f1 = _compare(store, data, vectors, predicted, f1)
    x, words, labels = vectors, data.lemmas, data.label_sets
    if extra is not None:
        x, words, labels = np.vstack([x, extra[0]]), words + extra[1], labels + extra[2]
        data.theme_labels.update({t.theme_id: t.label for t in codebook.themes if t.theme_id not in data.theme_labels})
    classifier = ThemeClassifier().fit(x, words, labels, data.corpus_lemmas)
    theme_labels = {t: data.theme_labels.get(t, t) for t in classifier.classes_}
    metrics = {
        "cv_macro_f1": round(f1, 4),
        "previous_version": previous_version,
        "compared_on": compared_on,
        "new_macro_f1_compared": None if new_f1 is None else round(new_f1, 4),
        "previous_macro_f1": None if previous_f1 is None else round(previous_f1, 4),
        "themes": len(classifier.classes_),
        "guard": as_metrics(gap, data.theme_labels),
    }
    row = save_model(
        store,
        SavedModel(
            classifier,
            theme_labels,
            data.embedder,
            frozenset(map(text_key, data.texts)),
            tuple(sorted({*data.stop_words, *(codebook.stop_words if codebook else ())})),
            tuple((t, *data.theme_nets[t]) for t in classifier.classes_ if t in data.theme_nets),
        ),
        metrics,
        training_hash(data.texts, data.label_sets),
        len(data.texts),
        data.runs,
        None if codebook is None else {"question": codebook.question, "themes": [t.theme_id for t in codebook.themes]},
    )
    promoted = gap.ok and (previous_f1 is None or new_f1 >= previous_f1)
    if promoted:
        promote(store, row.version, by, reason="retrained: enough reviews, not worse than the previous model")
    comparison = (previous_version, compared_on, new_f1, previous_f1)
    return RetrainReport(row.version, f1, *comparison, promoted, len(data.texts), gap, data.theme_labels)
