"""ThemeRefiner on a hand-made corpus: topics are orthogonal directions plus noise, each with its own words."""

import numpy as np
import pytest

from pipeline.coherence import CoherenceSpace, ThemeRefiner, mean_pair_cosine
from pipeline.records import OTHER_ID, Assignment, ClusterResult, IdeaUnit, Theme

WORDS = ["impot taxe", "ecole enseignant", "police securite", "hopital medecin", "train transport"]
DIMENSIONS = 24
# A topic's units here repeat its words exactly, so their word and sense ratios are not a language's: the word-ratio
# test (``MIN_WORD_RATIO``) is off except where a test is about it.


def corpus(groups: list[tuple[str, list[int]]], codebook: frozenset[str] = frozenset()):
    """Units, vectors and a ClusterResult from (theme id, the topic of each of its units)."""
    rng = np.random.default_rng(0)
    units, vectors, assignments = [], [], []
    for theme_id, topics in groups:
        for topic in topics:
            unit_id = f"u{len(units)}"
            units.append(IdeaUnit(unit_id, f"r{len(units)}", WORDS[topic], WORDS[topic]))
            vectors.append(np.eye(DIMENSIONS)[topic] + 0.25 * rng.normal(size=DIMENSIONS))
            assignments.append(Assignment(unit_id, theme_id, 0.5))
    themes = [Theme(t, f"Label {t}", [t], from_codebook=t in codebook) for t, _ in groups]
    return units, np.array(vectors, dtype=np.float32), ClusterResult(themes, assignments, {"stop_words": []})


TIGHT = [("impots", [0] * 10), ("ecoles", [1] * 10), ("police", [2] * 10)]
BAG = ("bag", [0, 1, 2] * 4)  # units of three distinct topics


def themes_of(result: ClusterResult) -> dict[str, Theme]:
    return {t.theme_id: t for t in result.themes}


def test_mean_pair_cosine_matches_the_pairs():
    x = np.random.default_rng(1).normal(size=(7, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [x[i] @ x[j] for i in range(7) for j in range(7) if i != j]
    assert mean_pair_cosine(x) == pytest.approx(np.mean(pairs))


def test_a_bag_scores_below_a_tight_theme_and_is_dissolved_into_its_topics():
    units, vectors, result = corpus([*TIGHT, BAG])
    space = CoherenceSpace().fit(vectors, [u.lemmas for u in units], set())
    labels = np.array([a.theme_id for a in result.assignments])
    assert space.coherence(np.flatnonzero(labels == "bag")) < 1 < space.coherence(np.flatnonzero(labels == "impots"))
    refiner = ThemeRefiner(min_size=20, min_word_ratio=0.0)  # no half of the bag can become a theme: it is dissolved
    refined = refiner.refine(result, units, vectors)
    assert "bag" not in themes_of(refined) and refiner.dissolved_ == ["bag"]
    assert refined.parameters["dissolved"] == 1 and refined.parameters["coherence_threshold"] == refiner.min_coherence
    placed = {a.unit_id: a.theme_id for a in refined.assignments}
    for unit, before in zip(units, result.assignments, strict=True):
        if before.theme_id == "bag":  # each goes to the tight theme of its topic
            assert placed[unit.unit_id] == TIGHT[WORDS.index(unit.lemmas)][0]
    tight = themes_of(refined)["impots"]
    assert tight.coherence > refiner.min_coherence and not tight.mixed


def test_no_unit_is_lost_or_moved_outside_the_bag():
    units, vectors, result = corpus([*TIGHT, BAG])
    refined = ThemeRefiner(min_size=20, min_word_ratio=0.0).refine(result, units, vectors)
    assert sorted(a.unit_id for a in refined.assignments) == sorted(u.unit_id for u in units)
    known = set(themes_of(refined))
    for before, after in zip(result.assignments, refined.assignments, strict=True):
        assert after.theme_id in known
        if before.theme_id != "bag":
            assert after.theme_id == before.theme_id


def test_a_far_unit_of_a_bag_goes_to_autres():
    units, vectors, result = corpus([*TIGHT, ("bag", [0, 1, 2, 3, 4, 3, 4])])
    refined = ThemeRefiner(min_size=20, min_word_ratio=0.0).refine(result, units, vectors)
    placed = {a.unit_id: a.theme_id for a in refined.assignments}
    far = [u.unit_id for u in units if u.lemmas in (WORDS[3], WORDS[4])]
    assert all(placed[u] == OTHER_ID for u in far)
    assert OTHER_ID in themes_of(refined) and refined.parameters["units_to_autres"] == len(far)


def test_a_codebook_bag_is_kept_and_marked_mixed():
    units, vectors, result = corpus([*TIGHT, BAG], codebook=frozenset({"bag"}))
    refined = ThemeRefiner(min_size=20, min_word_ratio=0.0).refine(result, units, vectors)
    bag = themes_of(refined)["bag"]
    assert bag.mixed and bag.from_codebook
    assert [a.theme_id for a in refined.assignments] == [a.theme_id for a in result.assignments]


def test_near_identical_themes_are_merged_unless_kept_apart():
    groups = [*TIGHT, ("health", [3] * 8), ("care", [3] * 6)]
    units, vectors, result = corpus(groups)
    refined = ThemeRefiner(min_word_ratio=0.0).refine(result, units, vectors)
    assert "care" not in themes_of(refined)  # the smaller one joins the larger, which keeps its id and label
    assert themes_of(refined)["health"].label == "Label health" and refined.parameters["merged"] == 1
    assert sum(a.theme_id == "health" for a in refined.assignments) == 14
    kept = ThemeRefiner(min_word_ratio=0.0, keep_apart={frozenset({"care", "health"})}).refine(result, units, vectors)
    assert {"care", "health"} <= set(themes_of(kept)) and kept.parameters["merged"] == 0


def test_two_codebook_themes_are_never_merged():
    units, vectors, result = corpus([*TIGHT, ("health", [3] * 8), ("care", [3] * 6)], codebook=frozenset({"health", "care"}))
    refined = ThemeRefiner(min_word_ratio=0.0).refine(result, units, vectors)
    assert {"care", "health"} <= set(themes_of(refined))


def test_the_input_result_is_left_as_it_was():
    units, vectors, result = corpus([*TIGHT, BAG])
    ThemeRefiner(min_size=20, min_word_ratio=0.0).refine(result, units, vectors)
    assert [t.theme_id for t in result.themes] == ["impots", "ecoles", "police", "bag"]
    assert all(t.coherence is None for t in result.themes)


def test_a_theme_sharing_sense_but_no_words_is_a_bag():
    """Units alike in the embeddings (one topic) but each with its own words: word ratio under the floor."""
    units, vectors, result = corpus([*TIGHT])
    own_words = [IdeaUnit(u.unit_id, u.respondent_id, u.text, f"{u.lemmas} mot{i}") for i, u in enumerate(units)]
    for i, unit in enumerate(own_words[:10]):  # "impots": the same sense, no shared word
        own_words[i] = IdeaUnit(unit.unit_id, unit.respondent_id, unit.text, f"impot seul{i} propre{i}")
    space = CoherenceSpace().fit(vectors, [u.lemmas for u in own_words], set())
    impots, ecoles = np.arange(10), np.arange(10, 20)
    assert space.ratios(impots)[0] > 1 and space.word_ratio(impots) < 0.5 < space.word_ratio(ecoles)
    refiner = ThemeRefiner(min_size=20, min_coherence=0.5, min_word_ratio=0.5)
    refiner.refine(result, own_words, vectors)
    assert refiner.dissolved_ == ["impots"]


def test_codes_whose_labels_say_the_same_in_other_words_are_merged():
    """DC13 had "Appliquer la loi" and "Application de la loi" apart, and "Respecter la loi", "Respect de la loi"."""
    from dataclasses import replace

    units, vectors, result = corpus([*TIGHT, ("health", [3] * 8), ("transport", [4] * 6)])
    named = {"health": "Appliquer la loi", "transport": "Application de la loi", "police": "Moins de police"}
    themes = [replace(t, label=named.get(t.theme_id, t.label)) for t in result.themes]
    refined = ThemeRefiner(min_word_ratio=0.0).refine(replace(result, themes=themes), units, vectors)
    assert "transport" not in themes_of(refined) and refined.parameters["merged"] == 1
    assert themes_of(refined)["health"].label == "Appliquer la loi"
    assert sum(a.theme_id == "health" for a in refined.assignments) == 14


def test_a_label_s_code_key_keeps_quantities_and_reads_through_derivation():
    from pipeline.labels import same_code_key

    assert same_code_key("Appliquer la loi") == same_code_key("Application de la loi")
    assert same_code_key("Respect de la loi") == same_code_key("Respecter la loi")
    assert same_code_key("Plus de transparence") != same_code_key("Moins de transparence")
    assert same_code_key("Transport public") != same_code_key("Transparence publique")
