"""A theme classifier trained from reviewed units, and how it is scored.

One-vs-rest logistic regression on the same features as clustering (sentence embedding joined with
lemma TF-IDF), so an idea unit can carry several themes. The TF-IDF part is fitted on every unit of the
training runs, reviewed or not: unlabelled answers still teach which words matter.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from pipeline.errors import InputError
from pipeline.themes import ThemeFeatures

# A further theme is given when the model is at least this sure of it.
SECOND_THEME_PROBABILITY = 0.5
# Below this for its best theme, a unit is "unsure": classify_wave proposes new themes from such units.
CONFIDENT_PROBABILITY = 0.35


class ThemeClassifier:
    """fit: reviewed units and their themes; predict: themes for new units, known ids and labels kept."""

    def __init__(self, c: float = 4.0, random_state: int = 0):
        self.c = c
        self.random_state = random_state

    def fit(
        self,
        embeddings: np.ndarray,
        lemmas: list[str],
        label_sets: list[list[str]],
        corpus_lemmas: list[str] | None = None,
    ) -> ThemeClassifier:
        self.binarizer_ = MultiLabelBinarizer().fit(label_sets)
        if len(self.binarizer_.classes_) < 2:
            raise InputError("training needs reviewed units in at least two themes")
        self.features_ = ThemeFeatures().fit(corpus_lemmas or lemmas)
        y = self.binarizer_.transform(label_sets)
        logistic = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000, random_state=self.random_state)
        self.model_ = OneVsRestClassifier(logistic).fit(self.features_.transform(embeddings, lemmas), y)
        return self

    @property
    def classes_(self) -> list[str]:
        return list(self.binarizer_.classes_)

    def predict_proba(self, embeddings: np.ndarray, lemmas: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self.features_.transform(embeddings, lemmas))

    def predict(self, embeddings: np.ndarray, lemmas: list[str]) -> list[list[str]]:
        return label_sets_from(self.predict_proba(embeddings, lemmas), self.classes_)


def label_sets_from(probabilities: np.ndarray, classes: list[str]) -> list[list[str]]:
    """The best theme always, then any other the model is sure of, most likely first."""
    out = []
    for row in probabilities:
        order = np.argsort(-row)
        out.append([classes[order[0]], *(classes[j] for j in order[1:] if row[j] >= SECOND_THEME_PROBABILITY)])
    return out


def macro_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    """Macro-F1 over the themes reviewers used; a theme the model does not know scores 0."""
    binarizer = MultiLabelBinarizer().fit(gold)
    known = set(binarizer.classes_)
    return float(
        f1_score(
            binarizer.transform(gold),
            binarizer.transform([[t for t in p if t in known] for p in predicted]),
            average="macro",
            zero_division=0,
        )
    )


def cross_validated_predictions(
    embeddings: np.ndarray,
    lemmas: list[str],
    label_sets: list[list[str]],
    corpus_lemmas: list[str] | None = None,
    extra: tuple[np.ndarray, list[str], list[list[str]]] | None = None,
    folds: int = 5,
) -> list[list[str]]:
    """Each reviewed unit's themes as predicted by a model trained on the other folds.

    ``extra`` items (codebook entries) join every training fold and are never scored.
    """
    n = len(label_sets)
    if n < 4:
        raise InputError(f"cross-validation needs at least 4 reviewed units, got {n}")
    predicted: list[list[str]] = [[] for _ in range(n)]
    for train, test in KFold(min(folds, n), shuffle=True, random_state=0).split(np.arange(n)):
        x, words, labels = embeddings[train], [lemmas[i] for i in train], [label_sets[i] for i in train]
        if extra is not None:
            x, words, labels = np.vstack([x, extra[0]]), words + extra[1], labels + extra[2]
        if len({t for ls in labels for t in ls}) < 2:
            continue  # a fold with a single theme cannot train; its units count as misses
        model = ThemeClassifier().fit(x, words, labels, corpus_lemmas)
        for i, labels_i in zip(test, model.predict(embeddings[test], [lemmas[i] for i in test]), strict=True):
            predicted[i] = labels_i
    return predicted


def training_hash(texts: list[str], label_sets: list[list[str]]) -> str:
    rows = sorted(json.dumps([t, sorted(ls)], ensure_ascii=False) for t, ls in zip(texts, label_sets, strict=True))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()
