"""A coder's keyword rules (pipeline.label_codes): a unit holding every content word of a code's label, or one of its
marker words, carries it."""

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np

from pipeline.analysis import Analysis
from pipeline.label_codes import LABEL_LEMMAS, MARKERS, LabelCoder, LabelRule, label_code
from pipeline.placement import ThemePlacer
from pipeline.rank import rank_themes
from pipeline.records import OTHER_ID, Assignment, ClusterResult, IdeaUnit, Response, Theme


def _unit(n: int, lemmas: str) -> IdeaUnit:
    return IdeaUnit(f"u{n}", f"r{n}", lemmas, lemmas)


def _themes_of(assignments: list[Assignment]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for a in assignments:
        out[a.unit_id].append(a.theme_id)
    return dict(out)


def test_a_unit_holding_every_word_of_a_label_also_carries_its_code():
    units = [
        _unit(0, "publier bilan annuel dépense"),  # holds the label: a further code
        _unit(1, "bilan comptable"),  # one word of two: nothing
        _unit(2, "bilan annuel"),  # in Autres: leaves it for the code
        _unit(3, "bilan annuel état"),  # already in the code: not twice
        _unit(4, "bilan annuel"),  # nearer the code's centre than its own: still second
    ]
    vectors = np.vstack([np.eye(4), [[0.6, 0.0, 0.0, 0.8]]]).astype(np.float32)
    assignments = [
        Assignment("u0", "t-transparence", 0.8),
        Assignment("u1", "t-transparence", 0.7),
        Assignment("u2", OTHER_ID, 0.1),
        Assignment("u3", "t-bilan", 0.9),
        Assignment("u4", "t-transparence", 0.3),
    ]
    centre = np.array([0.6, 0.0, 0.0, 0.8], dtype=np.float32)
    rule = LabelRule({"t-bilan": frozenset({"bilan", "annuel"})}, {"t-bilan": centre})
    coded = label_code(assignments, units, vectors, rule, range(5))
    assert _themes_of(coded) == {
        "u0": ["t-transparence", "t-bilan"],
        "u1": ["t-transparence"],
        "u2": ["t-bilan"],
        "u3": ["t-bilan"],
        "u4": ["t-transparence", "t-bilan"],
    }
    assert coded[1] == Assignment("u0", "t-bilan", 0.6)  # scored by its cosine to the code's centre
    assert coded[-1] == Assignment("u4", "t-bilan", 0.2999)  # the review store takes the best score as the main theme
    # units outside ``rows`` (those a reviewer set) are left as they are
    assert label_code(assignments, units, vectors, rule, [1, 3]) == assignments


def test_a_unit_in_autres_leaves_it_for_the_nearest_code_its_words_name():
    units = [_unit(0, "bilan annuel"), _unit(1, "bilan annuel")]
    vectors = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    assignments = [Assignment("u0", OTHER_ID, 0.1), Assignment("u1", OTHER_ID, 0.1)]
    centres = {"t-bilan": np.array([1.0, 0.0]), "t-zeta": np.array([0.0, 1.0])}  # "t-zeta": by id, last
    rule = LabelRule({"t-bilan": frozenset({"bilan", "annuel"})}, centres, {"t-zeta": frozenset({"annuel"})})
    coded = _themes_of(label_code(assignments, units, vectors, rule, range(2)))
    assert coded == {"u0": ["t-zeta", "t-bilan"], "u1": ["t-bilan", "t-zeta"]}


def test_codes_are_fitted_on_labels_of_two_content_words_or_more(sample_clean, sample_vectors):
    units = sample_clean.units[:4]
    themes = [Theme("t-a", "Bilan annuel des dépenses", []), Theme("t-b", "Transparence", []), Theme(OTHER_ID, "Autres", [])]
    result = ClusterResult(themes, [Assignment(u.unit_id, "t-a", 0.5) for u in units], {})
    rule = LabelCoder().fit(result, units, sample_vectors[:4]).rule_
    assert rule.lemmas == {"t-a": frozenset({"bilan", "annuel", "dépense"})}
    assert set(rule.centres) == {"t-a"}


def test_a_label_whose_words_too_many_units_hold_gives_no_rule():
    # 100 units: more than 7 holding a label's words make it the question's own subject, not a code's rule
    texts = ["impôt revenu"] * 8 + ["bilan annuel"] * 7 + ["autre"] * 85
    units = [_unit(n, text) for n, text in enumerate(texts)]
    themes = [Theme("t-ir", "Impôt sur le revenu", []), Theme("t-bilan", "Bilan annuel", [])]
    codes = ["t-ir"] * 8 + ["t-bilan"] * 7 + ["t-ir"] * 85
    result = ClusterResult(themes, [Assignment(u.unit_id, c, 0.5) for u, c in zip(units, codes, strict=True)], {})
    vectors = np.ones((len(units), 2), dtype=np.float32)
    assert LabelCoder(marker_share=None).fit(result, units, vectors).rule_.lemmas == {
        "t-bilan": frozenset({"bilan", "annuel"})
    }
    wider = LabelCoder(marker_share=None, rule_max_share=0.08).fit(result, units, vectors).rule_.lemmas
    assert wider["t-ir"] == frozenset({"impôt", "revenu"})


def test_a_code_s_markers_are_the_words_whose_users_it_holds_more_than_any_other_code():
    # 200 units: 5% of them is 10 users at most; 8 at least
    texts = (
        ["internet site"] * 6  # "internet": 9 users, 6 in t-site (0.67); "site": 6 users only
        + ["internet"] * 3
        + ["télé"] * 9  # "télé": 9 users, 3 in t-site (a third): a marker of t-site, which holds the most of them
        + ["impôt"] * 12  # "impôt": 12 users, over 5% of the units: the question's own word, no marker
        + ["bilan"] * 9  # "bilan": all in Autres, no code to mark
        + ["autre"] * 161
    )
    codes = ["t-site"] * 6 + ["t-a", "t-b", "t-c"] + ["t-site"] * 3 + ["t-a"] * 2 + ["t-b", "t-c", "t-d", "t-e"]
    codes += ["t-site"] * 12 + [OTHER_ID] * 9 + ["t-a"] * 161
    units = [_unit(n, text) for n, text in enumerate(texts)]
    assignments = [Assignment(u.unit_id, code, 0.5) for u, code in zip(units, codes, strict=True)]
    result = ClusterResult([Theme(c, "Thème", []) for c in sorted(set(codes))], assignments, {})
    vectors = np.ones((len(units), 2), dtype=np.float32)
    rule = LabelCoder().fit(result, units, vectors).rule_
    assert rule.markers == {"t-site": frozenset({"internet", "télé"})}
    assert LabelCoder(marker_share=0.4).fit(result, units, vectors).rule_.markers == {"t-site": frozenset({"internet"})}
    assert LabelCoder(marker_share=None).fit(result, units, vectors).rule_.markers == {}
    coded = _themes_of(label_code(assignments, units, vectors, rule, range(len(units))))
    assert coded["u6"] == ["t-a", "t-site"] and coded["u14"] == ["t-b", "t-site"]  # "internet" and "télé" alone
    assert coded["u24"] == ["t-site"] and coded["u30"] == [OTHER_ID]  # no code from "impôt" nor "bilan"


def test_the_sample_s_units_carry_the_codes_whose_label_they_hold(sample_clean, sample_vectors, codebook):
    units = sample_clean.units
    plain = Analysis(codebook=codebook, label_coder=None).find_themes(units, sample_vectors)
    coded = Analysis(codebook=codebook).find_themes(units, sample_vectors)
    assert Counter(a.unit_id for a in plain.assignments) == Counter(u.unit_id for u in units)  # one code each
    pairs = [(a.unit_id, a.theme_id) for a in coded.assignments]
    assert len(pairs) == len(set(pairs))
    lemmas = {t: set(words) for t, words in coded.parameters[LABEL_LEMMAS].items()}
    markers = {t: set(words) for t, words in coded.parameters[MARKERS].items()}
    assert lemmas["moyens"] == {"moyen", "ressource"}  # "Moyens et ressources", the codebook's label
    assert markers, "the sample's codes have words of their own"
    own = _themes_of(plain.assignments)
    carried = _themes_of(coded.assignments)
    further = {(u, t) for u, t in pairs if t not in own[u]}
    assert further, "some of the sample's ideas name a code they were not clustered in"
    for unit in units:
        held = set(unit.lemmas.split())
        named = {t for t, words in lemmas.items() if words <= held} | {t for t, words in markers.items() if words & held}
        assert {t for u, t in further if u == unit.unit_id} == named - set(own[unit.unit_id]), unit.text
        # the clustering is unchanged: a unit keeps its own code first, unless it leaves "Autres" for a named one
        kept = own[unit.unit_id] if not named or own[unit.unit_id] != [OTHER_ID] else []
        assert carried[unit.unit_id][: len(kept)] == kept


def test_a_unit_a_reviewer_set_keeps_its_themes(sample_clean, sample_vectors, codebook):
    units = sample_clean.units
    analysis = Analysis(codebook=codebook)
    clustered = analysis.cluster(units, sample_vectors)
    before = _themes_of(clustered.assignments)
    after = _themes_of(analysis.code_labels(clustered, units, sample_vectors).assignments)
    changed = sorted(u for u in after if after[u] != before[u])
    assert len(changed) >= 2
    fixed = set(changed[::2])  # every other one: the rest still get their further codes
    kept = _themes_of(analysis.code_labels(clustered, units, sample_vectors, fixed).assignments)
    assert {u: kept[u] for u in fixed} == {u: before[u] for u in fixed}
    assert {u: t for u, t in kept.items() if u not in fixed} == {u: t for u, t in after.items() if u not in fixed}


def test_a_new_unit_placed_on_the_warm_path_gets_the_codes_its_words_name(sample_clean, sample_vectors):
    units = sample_clean.units
    coded = Analysis().find_themes(units, sample_vectors)
    code, words = next((t, w) for t, w in coded.parameters[LABEL_LEMMAS].items())
    row = next(i for i, u in enumerate(units) if OTHER_ID not in _themes_of(coded.assignments)[u.unit_id])
    placer = ThemePlacer().fit(coded, units, sample_vectors)
    new = replace(units[row], unit_id="new-1", respondent_id="new-1", text="Une idée neuve", lemmas=" ".join(words))
    placed = placer.place([*units, new], np.vstack([sample_vectors, sample_vectors[row]]))
    assert code in _themes_of(placed.assignments)["new-1"]
    assert [a for a in placed.assignments if a.unit_id != "new-1"] == coded.assignments
    code, words = next((t, w) for t, w in coded.parameters[MARKERS].items() if t != code)
    new = replace(new, unit_id="new-2", respondent_id="new-2", lemmas=words[0])  # one marker word is enough
    placed = placer.place([*units, new], np.vstack([sample_vectors, sample_vectors[row]]))
    assert code in _themes_of(placed.assignments)["new-2"]


def test_a_unit_in_two_themes_is_quoted_on_its_score_in_each():
    units = [IdeaUnit(f"u{i}", f"r{i}", text, text) for i, text in enumerate(["Idée centrale", "Idée voisine"])]
    assignments = [
        Assignment("u0", "t-a", 0.95),
        Assignment("u1", "t-a", 0.5),
        Assignment("u0", "t-b", 0.05),  # the last written must not overwrite its score in t-a
    ]
    themes = [Theme("t-a", "Thème A", []), Theme("t-b", "Thème B", [])]
    ranked = rank_themes(themes, assignments, units, np.eye(2), [Response("r0", ""), Response("r1", "")], [])
    assert next(t for t in ranked if t.theme_id == "t-a").quotes[0] == "Idée centrale"


def test_the_warm_path_places_new_units_by_the_clustering_s_own_centres(sample_clean, sample_vectors, codebook):
    units, analysis = sample_clean.units, Analysis(codebook=codebook)
    clustered = analysis.cluster(units, sample_vectors)
    coded = analysis.code_labels(clustered, units, sample_vectors)
    firsts = [a for n, a in enumerate(coded.assignments) if a.unit_id not in {b.unit_id for b in coded.assignments[:n]}]
    assert len(coded.assignments) > len(firsts) == len(units)
    nearest = ClusterResult(coded.themes, firsts, coded.parameters)  # a unit leaving "Autres" keeps its new code
    plain, placer = (ThemePlacer().fit(r, units, sample_vectors) for r in (nearest, coded))
    assert placer.theme_ids_ == plain.theme_ids_
    assert np.allclose(placer.centres_, plain.centres_, atol=1e-6) and np.allclose(placer.cutoffs_, plain.cutoffs_)
