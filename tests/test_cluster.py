from collections import Counter

import numpy as np
import pytest

from pipeline.codebook import load_stop_words
from pipeline.errors import NotFoundError
from pipeline.records import OTHER_ID
from pipeline.themes import CODEBOOK_CODES_PER_ROOT, ThemeModel, find_themes, theme_count


def test_theme_count_follows_corpus_size():
    assert [theme_count(n) for n in (3, 100, 300, 1_000, 10_000, 1_000_000)] == [1, 10, 17, 32, 60, 60]
    assert [theme_count(n, CODEBOOK_CODES_PER_ROOT) for n in (100, 1_000, 10_000)] == [6, 19, 60]


def purity(result, units, gold):
    """Share of each theme's idea units whose answer was written for that theme (among others, if several)."""
    theme_of = {a.unit_id: a.theme_id for a in result.assignments}
    by_theme = Counter()
    right = Counter()
    for unit in units:
        theme = theme_of[unit.unit_id]
        by_theme[theme] += 1
        right[theme] += theme in gold[unit.respondent_id]
    return {t: right[t] / by_theme[t] for t in by_theme}


def test_codebook_themes_are_found_named_and_mostly_right(sample_clean, sample_vectors, codebook, seeds, gold):
    result = find_themes(sample_clean.units, sample_vectors, codebook, seeds)
    labels = {t.theme_id: t.label for t in result.themes}
    for expected in ("sponsorship", "moyens", "embarquer", "temps", "outils_donnees", "transversalite", "mesure"):
        assert labels[expected] == next(c.label for c in codebook.themes if c.theme_id == expected)
    scores = purity(result, sample_clean.units, gold)
    assert scores["sponsorship"] >= 0.7 and scores["moyens"] >= 0.7 and scores["embarquer"] >= 0.5
    assert any(not t.from_codebook and t.theme_id != OTHER_ID for t in result.themes), "new themes must still emerge"
    keywords = {t.theme_id: t.keywords for t in result.themes}
    assert "budget" in keywords["moyens"][:5]
    assert any("é" in w for ws in keywords.values() for w in ws), "French accents must survive keyword extraction"


def test_same_input_gives_the_same_themes(sample_clean, sample_vectors, codebook, seeds):
    first = find_themes(sample_clean.units, sample_vectors, codebook, seeds)
    second = find_themes(sample_clean.units, sample_vectors, codebook, seeds)
    assert first.assignments == second.assignments
    assert [(t.theme_id, t.label, t.keywords) for t in first.themes] == [
        (t.theme_id, t.label, t.keywords) for t in second.themes
    ]


def test_a_hundred_answers_neither_collapse_nor_scatter(sample_clean, sample_vectors):
    units, vectors = sample_clean.units[:100], sample_vectors[:100]
    result = find_themes(units, vectors)
    sizes = Counter(a.theme_id for a in result.assignments)
    real = {t: n for t, n in sizes.items() if t != OTHER_ID}
    assert 4 <= len(real) <= 10
    assert max(real.values()) <= 40
    assert sizes.get(OTHER_ID, 0) <= 15
    assert all(t.keywords for t in result.themes if t.theme_id != OTHER_ID)


def test_transform_places_new_units_in_the_learnt_themes(sample_clean, sample_vectors):
    lemmas = [u.lemmas for u in sample_clean.units]
    model = ThemeModel().fit(sample_vectors, lemmas)
    labels, scores = model.transform(sample_vectors, lemmas)
    again, _ = model.transform(sample_vectors[:10], lemmas[:10])
    assert np.array_equal(labels[:10], again)
    # a unit is set aside exactly when its similarity to its nearest theme is under that theme's cutoff
    nearest = np.argmax(model.features_.transform(sample_vectors, lemmas) @ model.centres_.T, axis=1)
    assert ((labels == -1) == (scores < model.cutoffs_[nearest])).all()
    assert (labels[labels != -1] == nearest[labels != -1]).all()
    assert 0 < (labels == -1).mean() < 0.1


def test_big_corpora_learn_on_a_seeded_sample_and_place_every_unit(monkeypatch, sample_clean, sample_vectors):
    """Agreement with learning on all units is measured at 213,520 units in bench/RESULTS.md: on a few
    hundred units two k-means seeds already disagree too much for a test to judge it."""
    import pipeline.themes

    units = sample_clean.units
    monkeypatch.setattr(pipeline.themes, "FIT_SAMPLE", len(units) // 2)
    first = find_themes(units, sample_vectors)
    assert first.parameters["fit_sample"] == len(units) // 2
    assert [a.unit_id for a in first.assignments] == [u.unit_id for u in units]
    assert Counter(a.theme_id for a in first.assignments)[OTHER_ID] < 0.15 * len(units)
    assert find_themes(units, sample_vectors).assignments == first.assignments


class FirstRowsAsCentres:
    """A toy backend: the first k rows are the centres, each row joins the nearest; it records its calls."""

    def __init__(self):
        self.calls = []

    def fit(self, features, k, seed_centres, random_state):
        self.calls.append((len(features), k, seed_centres is None, random_state))
        centres = features[:k]
        return centres, np.argmax(features @ centres.T, axis=1)


def test_a_clustering_backend_passed_to_the_theme_model_is_used(sample_clean, sample_vectors):
    units, vectors = sample_clean.units[:100], sample_vectors[:100]
    lemmas = [u.lemmas for u in units]
    backend = FirstRowsAsCentres()
    model = ThemeModel(clusterer=backend).fit(vectors, lemmas)
    assert model.clusterer_ is backend and backend.calls == [(100, theme_count(100), True, 0)]
    first_rows = model.features_.transform(vectors[: theme_count(100)], lemmas[: theme_count(100)])
    assert all(np.isclose(first_rows @ centre, 1, atol=1e-5).any() for centre in model.centres_)
    result = find_themes(units, vectors, clusterer=backend)
    assert len(backend.calls) == 2
    assert result.parameters["n_clusters"] == len(model.centres_)


def test_kmeans_by_name_or_as_an_object_is_the_default(sample_clean, sample_vectors, codebook, seeds, sample_clustered):
    from pipeline.clusterers import CLUSTERERS, KMeansClusterer

    assert CLUSTERERS["kmeans"] is KMeansClusterer
    assert ThemeModel().get_params() == {"n_themes": None, "random_state": 0, "clusterer": "kmeans"}
    by_name = find_themes(sample_clean.units, sample_vectors, codebook, seeds, clusterer="kmeans")
    assert by_name.assignments == sample_clustered.assignments and by_name.themes == sample_clustered.themes
    units, vectors = sample_clean.units[:100], sample_vectors[:100]
    assert find_themes(units, vectors, clusterer=KMeansClusterer()).assignments == find_themes(units, vectors).assignments


def test_estimators_keep_scikit_learns_conventions_without_it():
    """Hyperparameters read and written by name; the repr, which the flows key cached results on, shows those
    that differ from their defaults, as scikit-learn's does."""
    from pipeline.clusterers import KMeansClusterer
    from pipeline.nets import NetGrouping

    model = ThemeModel(n_themes=5).set_params(random_state=3)
    assert model.get_params() == {"n_themes": 5, "random_state": 3, "clusterer": "kmeans"}
    assert repr(model) == "ThemeModel(n_themes=5, random_state=3)"
    assert repr(KMeansClusterer()) == "KMeansClusterer()" and repr(NetGrouping(0.7)) == "NetGrouping(distance_threshold=0.7)"
    with pytest.raises(ValueError, match="n_topics"):
        ThemeModel().set_params(n_topics=5)


def test_an_unknown_clusterer_name_lists_the_known_ones(sample_clean, sample_vectors):
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="algorithme de regroupement inconnu « hdbscan » : au choix kmeans"):
        find_themes(sample_clean.units[:20], sample_vectors[:20], clusterer="hdbscan")


def test_a_questions_own_words_stay_out_of_keywords_and_only_there(tmp_path, sample_clean, sample_vectors):
    plain = find_themes(sample_clean.units, sample_vectors)
    words = Counter(w for t in plain.themes for w in t.keywords[:5] if " " not in w)
    common = words.most_common(1)[0][0]  # a keyword several themes share: the kind a question repeats
    listed = tmp_path / "stop_words.txt"
    listed.write_text(f"# the question's words\n{common.upper()}, chose\n\n", encoding="utf-8")
    assert load_stop_words(listed) == (common, "chose")
    told = find_themes(sample_clean.units, sample_vectors, stop_words=load_stop_words(listed))
    assert all(common not in t.keywords for t in told.themes)
    assert told.parameters["stop_words"] == sorted([common, "chose"])
    # the same themes: stop words name themes, they do not move units
    assert [a.unit_id for a in told.assignments] == [a.unit_id for a in plain.assignments]
    assert len(told.themes) == len(plain.themes)
    with pytest.raises(NotFoundError, match="fichier de mots vides introuvable"):
        load_stop_words(tmp_path / "missing.txt")


def test_an_analysis_seed_reaches_the_theme_model_and_the_refiners_splits(sample_clean, sample_vectors, monkeypatch):
    from pipeline.analysis import Analysis
    from pipeline.coherence import ThemeRefiner

    units, vectors = sample_clean.units[:100], sample_vectors[:100]
    refined_with, refine = [], ThemeRefiner.refine
    monkeypatch.setattr(ThemeRefiner, "refine", lambda self, *a: refined_with.append(self.random_state) or refine(self, *a))
    backend = FirstRowsAsCentres()
    Analysis(random_state=7, clusterer=backend).find_themes(units, vectors)
    assert (backend.calls[-1][3], refined_with) == (7, [7])
    given = ThemeRefiner(random_state=5)
    Analysis(clusterer=backend, refiner=given).find_themes(units, vectors)  # no seed given: each keeps its own
    assert (backend.calls[-1][3], refined_with, given.random_state) == (0, [7, 5], 5)
    assert "random_state=7" in repr(Analysis(random_state=7))  # a stage cached under one seed is not read under another
