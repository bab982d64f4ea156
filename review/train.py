"""A theme classifier trained from reviewed units, and how it is scored.

One-vs-rest logistic regression on the same features as clustering (sentence embedding joined with
lemma TF-IDF), so an idea unit can carry several themes. The TF-IDF part is fitted on every unit of the
training runs, reviewed or not: unlabelled answers still teach which words matter.

Measured with bench/review_loop.py's definitions (human-coded answers of FI7, 836, and DC13, 464; random picks
of 100 and 300 reviewed answers, seeds 1 and 2; weighted-F1 over themes carried by at least 10 answers, on the
answers nobody reviewed). Kept, by the callers: codebook entries as further examples (retrain's ``extra``; the
code names in the bench): +0.02 to +0.035 after 100 answers, +0.01 after 300. Not kept, each against the model
as it was (TF-IDF weight 1, no codebook examples) with a single bar of 0.4 for further themes: per-theme bars
tuned by inner 5-fold cross-validation on the reviewed answers (-0.01 to +0.01, micro-F1 -0.02 to -0.03, six
fits instead of one); top-k themes, k from the reviewed answers' themes per answer and the answer's length
(-0.01 to -0.04); no class weights (-0.11 to -0.14 on FI7); a 15-neighbour vote blended in (-0.02 to +0.01);
label spreading over the unreviewed answers (-0.04 after 100, +0.01 after 300); self-training on them (0 to
+0.01); on FI7, each sentence of a long answer classified too, its best probabilities kept (+0.01 to +0.02,
but the classifier would need every sentence's embedding). Nor other heads on the same features (2026-11-30, seeds 1
to 3, against this one's 0.523 / 0.575 on FI7 and 0.524 / 0.593 on DC13): a linear SVM with a sigmoid of its margin
-0.015 to +0.001, a 256-unit MLP -0.04 to -0.05, cosine to each theme's mean reviewed answer -0.02 to -0.12.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from pipeline import learn
from pipeline.errors import InputError
from pipeline.messages import say
from pipeline.themes import ThemeFeatures

# A further theme is given when the model is at least this sure of it. Human coders give 2.8 to 3.9 themes per
# answer (FI8, FI7, DC13); 0.45 rather than 0.5 gives more of them. Weighted-F1 with the codebook's names as
# examples, 0.5 -> 0.45: FI7 0.512 -> 0.523 after 100 reviewed answers, 0.582 -> 0.578 after 300; DC13
# 0.524 -> 0.537 and 0.597 -> 0.591 (0.4 gained as much at 100 and lost 0.01 to 0.02 at 300).
SECOND_THEME_PROBABILITY = 0.45
# Below this for its best theme, a unit is "unsure": classify_wave proposes new themes from such units.
CONFIDENT_PROBABILITY = 0.35


class ThemeClassifier:
    """fit: reviewed units and their themes; predict: themes for new units, known ids and labels kept.

    ``c``: the logistic regression's inverse regularisation. With a bar of 0.4 for further themes, 1 gave 0.02
    (FI7) to 0.04 (DC13) less weighted-F1 after 100 reviewed answers than 4; 8 and 16 gave 0.01 less (FI7).
    ``tfidf_weight``: the lemma TF-IDF half's weight against the sentence embedding's, before the row is
    unit-normalised. Weighted-F1 after 100 / 300 reviewed answers, 1 -> 0.5: FI7 0.510 / 0.578 -> 0.523 /
    0.578, DC13 0.526 / 0.581 -> 0.537 / 0.591 (0, USE alone: 0.01 to 0.04 below 0.5).
    ``second_theme_probability``: see SECOND_THEME_PROBABILITY.
    Class weights stay "balanced": without them the model rarely gives a theme under 10% of the answers.
    """

    def __init__(
        self,
        c: float = 4.0,
        tfidf_weight: float = 0.5,
        second_theme_probability: float = SECOND_THEME_PROBABILITY,
        random_state: int = 0,
    ):
        self.c = c
        self.tfidf_weight = tfidf_weight
        self.second_theme_probability = second_theme_probability
        self.random_state = random_state

    def __setstate__(self, state: dict) -> None:
        """Models saved before a hyperparameter existed load with the value they were trained with."""
        self.__dict__.update({"tfidf_weight": 1.0, "second_theme_probability": 0.5, **state})

    def fit(
        self,
        embeddings: np.ndarray,
        lemmas: list[str],
        label_sets: list[list[str]],
        corpus_lemmas: list[str] | None = None,
    ) -> ThemeClassifier:
        self.binarizer_ = learn.MultiLabelBinarizer().fit(label_sets)
        if len(self.binarizer_.classes_) < 2:
            raise InputError(say("train.two_themes"))
        self.features_ = ThemeFeatures().fit(corpus_lemmas or lemmas)
        y = self.binarizer_.transform(label_sets)
        logistic = learn.LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000, random_state=self.random_state)
        self.model_ = learn.OneVsRestClassifier(logistic).fit(self._features(embeddings, lemmas), y)
        return self

    def _features(self, embeddings: np.ndarray, lemmas: list[str]) -> np.ndarray:
        x = self.features_.transform(embeddings, lemmas)
        if self.tfidf_weight == 1.0 or x.shape[1] == embeddings.shape[1]:  # as clustering has them, or no TF-IDF
            return x
        x[:, embeddings.shape[1] :] *= self.tfidf_weight
        return learn.normalize(x, copy=False)

    @property
    def classes_(self) -> list[str]:
        return list(self.binarizer_.classes_)

    def predict_proba(self, embeddings: np.ndarray, lemmas: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self._features(embeddings, lemmas))

    def predict(self, embeddings: np.ndarray, lemmas: list[str]) -> list[list[str]]:
        return label_sets_from(self.predict_proba(embeddings, lemmas), self.classes_, self.second_theme_probability)


def label_sets_from(
    probabilities: np.ndarray, classes: list[str], second_theme_probability: float = SECOND_THEME_PROBABILITY
) -> list[list[str]]:
    """The best theme always, then any other the model is sure of, most likely first."""
    out = []
    for row in probabilities:
        order = np.argsort(-row)
        out.append([classes[order[0]], *(classes[j] for j in order[1:] if row[j] >= second_theme_probability)])
    return out


def macro_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    """Macro-F1 over the themes reviewers used; a theme the model does not know scores 0."""
    binarizer = learn.MultiLabelBinarizer().fit(gold)
    known = set(binarizer.classes_)
    return float(
        learn.f1_score(
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
        raise InputError(say("train.cv_items", n=n))
    predicted: list[list[str]] = [[] for _ in range(n)]
    for train, test in learn.KFold(min(folds, n), shuffle=True, random_state=0).split(np.arange(n)):
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
