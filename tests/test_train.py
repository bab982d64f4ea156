"""The theme classifier's behaviour on constructed units: what it gives, how its hyperparameters act."""

import pickle

import numpy as np
import pytest

from review.train import SECOND_THEME_PROBABILITY, ThemeClassifier, label_sets_from

THEMES = ("impots", "ecole", "sante")
WORDS = {"impots": "impot taxe fiscal", "ecole": "ecole eleve professeur", "sante": "hopital medecin soin"}


@pytest.fixture
def units():
    """Three themes, each a direction in a 16-dimension "embedding" and a vocabulary; the last units of each
    theme also carry the next theme (its words and half its direction)."""
    rng = np.random.default_rng(0)
    directions = np.eye(16)[:3]
    vectors, lemmas, labels = [], [], []
    for t, theme in enumerate(THEMES):
        other = THEMES[(t + 1) % 3]
        for i in range(20):
            both = i >= 14
            vector = directions[t] + (0.7 * directions[(t + 1) % 3] if both else 0) + rng.normal(0, 0.15, 16)
            vectors.append(vector)
            lemmas.append(WORDS[theme] + (" " + WORDS[other] if both else "") + f" mot{i % 5}")
            labels.append([theme, other] if both else [theme])
    return np.array(vectors), lemmas, labels


def test_the_best_theme_always_then_the_others_the_model_is_sure_of_most_likely_first():
    probabilities = np.array([[0.2, 0.1, 0.05], [0.3, 0.9, 0.46], [0.7, 0.45, 0.44]])
    classes = ["a", "b", "c"]
    assert label_sets_from(probabilities, classes) == [["a"], ["b", "c"], ["a", "b"]]
    assert label_sets_from(probabilities, classes, second_theme_probability=0.5) == [["a"], ["b"], ["a"]]


def test_a_lower_bar_for_further_themes_only_adds_themes():
    probabilities = np.random.default_rng(1).random((50, 6))
    classes = list("abcdef")
    strict = label_sets_from(probabilities, classes, 0.6)
    loose = label_sets_from(probabilities, classes, 0.3)
    assert all(set(s) <= set(lo) for s, lo in zip(strict, loose, strict=True))
    assert sum(map(len, loose)) > sum(map(len, strict))


def test_the_classifier_learns_single_and_double_themes_and_keeps_its_classes(units):
    vectors, lemmas, labels = units
    train = [i for i in range(len(labels)) if i % 4]
    test = [i for i in range(len(labels)) if not i % 4]
    model = ThemeClassifier().fit(vectors[train], [lemmas[i] for i in train], [labels[i] for i in train], lemmas)
    assert model.classes_ == sorted(THEMES)
    probabilities = model.predict_proba(vectors[test], [lemmas[i] for i in test])
    assert probabilities.shape == (len(test), 3) and ((probabilities >= 0) & (probabilities <= 1)).all()
    predicted = model.predict(vectors[test], [lemmas[i] for i in test])
    assert all(set(p) == set(labels[i]) for i, p in zip(test, predicted, strict=True))
    assert any(len(labels[i]) == 2 for i in test)


def test_the_tfidf_weight_scales_the_words_half_against_the_embedding(units):
    vectors, lemmas, labels = units
    halves = {}
    for weight in (1.0, 0.5, 0.0):
        model = ThemeClassifier(tfidf_weight=weight).fit(vectors, lemmas, labels)
        x = model._features(vectors, lemmas)
        assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
        halves[weight] = np.linalg.norm(x[:, 16:], axis=1) / np.linalg.norm(x[:, :16], axis=1)
    assert np.allclose(halves[0.5], halves[1.0] / 2, rtol=1e-4)
    assert np.allclose(halves[0.0], 0)


def test_the_bar_for_further_themes_is_the_models_own(units):
    vectors, lemmas, labels = units
    everything = ThemeClassifier(second_theme_probability=0.0).fit(vectors, lemmas, labels)
    one = ThemeClassifier(second_theme_probability=1.01).fit(vectors, lemmas, labels)
    assert all(len(p) == 3 for p in everything.predict(vectors, lemmas))
    assert all(len(p) == 1 for p in one.predict(vectors, lemmas))


def test_a_model_saved_before_the_new_hyperparameters_predicts_as_it_did(units):
    vectors, lemmas, labels = units
    model = ThemeClassifier(tfidf_weight=1.0, second_theme_probability=0.5).fit(vectors, lemmas, labels)
    before = model.predict(vectors, lemmas)
    del model.tfidf_weight, model.second_theme_probability  # as a model pickled before they existed
    loaded = pickle.loads(pickle.dumps(model))
    assert (loaded.tfidf_weight, loaded.second_theme_probability) == (1.0, 0.5)
    assert loaded.predict(vectors, lemmas) == before
    assert ThemeClassifier().second_theme_probability == SECOND_THEME_PROBABILITY
