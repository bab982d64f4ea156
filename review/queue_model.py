"""The review queue's theme model, fitted once per set of reviews and kept between calls.

Fitting it is the queue's slow part (TF-IDF and SVD over every unit of the run, then five more fits for its
held-out F1): 11 s on the sample when the queue refitted it at every call. Once fitted, all it takes to order
and explain a queue is kept as plain arrays, in memory and in a ``.npz`` file beside the run's vectors, named
by the reviews it learnt from: a call with no new review fits nothing, in this process or the next. After new
reviews, a process that stays up (the web server) answers at once from the model it has and refits in a
background thread; ``fresh=True`` (the command line, tests) waits for the refit instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.cache import content_key
from review.queue_run import QueueRun, run_folder

log = logging.getLogger(__name__)

# Bumped when what a saved model holds changes, so files of an older layout are fitted again.
MODEL_FORMAT = "1"
# The TF-IDF and SVD a queue model sees words by are fitted on at most this many units: the reviewed ones and a
# seeded sample of the rest. On a run of 10,000 answers (18,511 units, 50 reviewed), the fit with its held-out
# F1 took 13.3 s of CPU with every unit, 3.4 s with 5,000 and 1.9 s with 2,000, for a held-out F1 of 0.285,
# 0.285 and 0.288. The sample's runs are smaller: nothing changes there.
CORPUS_UNITS = 2_000
# Saved models kept per run: the newest serves while the next one is fitted; older ones are dropped.
MODELS_KEPT = 3


@dataclass(frozen=True)
class Training:
    """The reviewed units a queue model learns from: their rows in the run and their themes."""

    rows: list[int]
    labels: list[list[str]]
    key: str  # names the model learnt from exactly these reviews


def training(run: QueueRun, rows: list[int], labels: list[list[str]]) -> Training:
    """``rows`` in run order, so that a model and its folds do not depend on the order reviews came in."""
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    rows, labels = [rows[i] for i in order], [labels[i] for i in order]
    key = content_key(
        MODEL_FORMAT, run.key, *(f"{run.unit_ids[r]}\x00{'|'.join(sorted(ls))}" for r, ls in zip(rows, labels, strict=True))
    )
    return Training(rows, labels, key)


@dataclass(frozen=True)
class QueueModel:
    """A fitted queue model as plain arrays: its probabilities for every unit, and what weighed for each."""

    trained_on: str  # Training.key
    n_reviewed: int
    classes: list[str]
    probabilities: np.ndarray  # units x classes, in run order
    terms: np.ndarray  # the TF-IDF vocabulary (lemmas and lemma pairs)
    term_weights: np.ndarray  # classes x terms: each term's pull toward each class
    unit_terms: tuple[np.ndarray, np.ndarray, np.ndarray]  # each unit's TF-IDF row (CSR data, indices, row starts)
    held_out_f1: float | None  # cross-validated macro-F1 on the reviewed units

    def reasons(self, row: int, theme: str, n: int = 3) -> tuple[str, ...]:
        """The unit's terms that pulled most toward ``theme``: TF-IDF weight times the term's pull."""
        if theme not in self.classes or not self.terms.size:
            return ()
        data, indices, starts = self.unit_terms
        cols = indices[starts[row] : starts[row + 1]]
        pulls = data[starts[row] : starts[row + 1]] * self.term_weights[self.classes.index(theme), cols]
        return tuple(str(self.terms[cols[j]]) for j in np.argsort(-pulls)[:n] if pulls[j] > 0)

    def save(self, path: Path) -> None:
        data, indices, starts = self.unit_terms
        partial = path.with_name(f"partial-{threading.get_ident()}-{path.name}")
        np.savez(
            partial,
            trained_on=np.array(self.trained_on),
            n_reviewed=np.array(self.n_reviewed),
            classes=np.array(self.classes),
            probabilities=self.probabilities,
            terms=self.terms,
            term_weights=self.term_weights,
            data=data,
            indices=indices,
            starts=starts,
            held_out_f1=np.array(np.nan if self.held_out_f1 is None else self.held_out_f1),
        )
        partial.replace(path)  # atomic: another process never reads half a model

    @classmethod
    def load(cls, path: Path) -> QueueModel:
        with np.load(path, allow_pickle=False) as f:
            f1 = float(f["held_out_f1"])
            return cls(
                str(f["trained_on"]),
                int(f["n_reviewed"]),
                [str(c) for c in f["classes"]],
                f["probabilities"],
                f["terms"],
                f["term_weights"],
                (f["data"], f["indices"], f["starts"]),
                None if np.isnan(f["held_out_f1"]) else f1,
            )


def fit(run: QueueRun, reviews: Training) -> QueueModel:
    """The review loop's own classifier (``review.train``), fitted on the reviews, its TF-IDF on the run's units."""
    from threadpoolctl import threadpool_limits

    from review.train import ThemeClassifier, cross_validated_predictions, macro_f1

    x, words = run.vectors[reviews.rows], [run.lemmas[r] for r in reviews.rows]
    corpus = _corpus(run, reviews)
    # One BLAS thread: on 2 cores busy with other work the fit of 50 reviews of a run of 10,000 answers took
    # 8.2 s with OpenBLAS's two threads waiting on each other, 1.8 s with one (same held-out F1, 0.288); and a
    # server's background fit leaves the other core to requests.
    with threadpool_limits(1):
        classifier = ThemeClassifier().fit(x, words, reviews.labels, corpus)
        held_out = cross_validated_predictions(x, words, reviews.labels, corpus)
        probabilities = classifier.predict_proba(run.vectors, run.lemmas).astype(np.float32)
        terms, weights, unit_terms = _term_pulls(classifier, run.lemmas)
    f1 = round(macro_f1(reviews.labels, held_out), 4)
    return QueueModel(reviews.key, len(reviews.rows), classifier.classes_, probabilities, terms, weights, unit_terms, f1)


def _corpus(run: QueueRun, reviews: Training) -> list[str]:
    """The lemmas the model's TF-IDF learns from: every unit, or the reviewed ones and a seeded sample."""
    if len(run.lemmas) <= CORPUS_UNITS:
        return run.lemmas
    reviewed = set(reviews.rows)
    others = np.array([r for r in range(len(run.lemmas)) if r not in reviewed])
    picked = np.random.default_rng(0).choice(others, max(0, CORPUS_UNITS - len(reviewed)), replace=False)
    return [run.lemmas[r] for r in sorted([*reviewed, *picked.tolist()])]


def _term_pulls(classifier, lemmas: list[str]):
    """Each term's weight toward each class, through the SVD the classifier sees terms by.

    A unit's TF-IDF row goes through the SVD, is scaled (positive factors) and meets the class's coefficients:
    term j adds tfidf_j * (coef_svd @ components)_j to the class's score, times the unit's positive scale.
    """
    features = classifier.features_
    if features.tfidf_ is None or features.svd_ is None:  # no shared vocabulary: nothing to show but neighbours
        empty = np.empty(0)
        return (
            np.array([], dtype=str),
            np.empty((len(classifier.classes_), 0)),
            (empty, empty.astype(int), np.zeros(len(lemmas) + 1, int)),
        )
    k = features.svd_.n_components
    coefs = np.vstack([getattr(e, "coef_", np.zeros((1, k)))[0][-k:] for e in classifier.model_.estimators_])
    matrix = features.tfidf_.transform(lemmas).tocsr()
    return (
        features.tfidf_.get_feature_names_out().astype(str),
        (coefs @ features.svd_.components_).astype(np.float32),
        (matrix.data.astype(np.float32), matrix.indices, matrix.indptr),
    )


class ModelKeeper:
    """The latest queue model of each run in this process, and the fits under way."""

    def __init__(self):
        self._lock = threading.Lock()
        self._latest: dict[str, QueueModel] = {}  # run key -> model
        self._wanted: dict[str, str] = {}  # run key -> the training last asked for
        self._fitting: dict[str, threading.Thread] = {}  # training key -> its background fit
        self.fits = 0  # models fitted by this process

    def model(self, run: QueueRun, reviews: Training, fresh: bool, in_thread: bool = True) -> tuple[QueueModel, bool]:
        """The model for these reviews, or (``fresh=False``) the last one while they are fitted in a background
        thread (unless ``in_thread`` is False: the caller has the fit done elsewhere); and whether this call waited
        for a fit."""
        path = run_folder(run.key) / f"model-{reviews.key[:32]}.npz"
        with self._lock:
            self._wanted[run.key] = reviews.key
            latest, running = self._latest.get(run.key), self._fitting.get(reviews.key)
        if latest is not None and latest.trained_on == reviews.key:
            return latest, False
        if path.exists():
            return self._keep(run, QueueModel.load(path)), False
        stale = latest or _newest_saved(run)
        if fresh or stale is None:
            if running is not None:  # another request started this very fit: wait for it, do not fit twice
                running.join()
                if path.exists():
                    return self._keep(run, QueueModel.load(path)), True
            return self._fit(run, reviews, path), True
        with self._lock:
            if in_thread and reviews.key not in self._fitting:
                thread = threading.Thread(target=self._fit_behind, args=(run, reviews, path), daemon=True)
                self._fitting[reviews.key] = thread
                thread.start()
        return stale, False

    def latest(self, run: QueueRun) -> QueueModel | None:
        """The last model fitted for the run, whatever reviews it learnt from; None before any."""
        with self._lock:
            latest = self._latest.get(run.key)
        saved = _newest_saved(run) if latest is None else None
        return latest or (self._keep(run, saved) if saved else None)

    def _keep(self, run: QueueRun, model: QueueModel) -> QueueModel:
        with self._lock:
            if run.key not in self._latest or self._wanted.get(run.key) == model.trained_on:
                self._latest[run.key] = model  # a slower, older fit never replaces a newer one
        return model

    def _fit(self, run: QueueRun, reviews: Training, path: Path) -> QueueModel:
        model = fit(run, reviews)
        model.save(path)
        with self._lock:
            self.fits += 1
        _prune(path.parent)
        return self._keep(run, model)

    def _fit_behind(self, run: QueueRun, reviews: Training, path: Path) -> None:
        try:
            self._fit(run, reviews, path)
        except Exception:  # a background fit has nobody to raise to: the next fresh call fits again and raises
            log.exception("queue model fit failed for run %s", run.run_id)
        finally:
            with self._lock:
                self._fitting.pop(reviews.key, None)


def _saved(folder: Path) -> list[Path]:
    """Saved models, oldest first (partial files are named otherwise)."""
    return sorted(folder.glob("model-*.npz"), key=lambda p: p.stat().st_mtime)


def _newest_saved(run: QueueRun) -> QueueModel | None:
    saved = _saved(run_folder(run.key))
    return QueueModel.load(saved[-1]) if saved else None


def _prune(folder: Path) -> None:
    for old in _saved(folder)[:-MODELS_KEPT]:
        old.unlink(missing_ok=True)


KEEPER = ModelKeeper()
