"""The theme stage's warm path (pipeline.placement): known units keep their themes, new ones go to the nearest."""

from collections import Counter
from dataclasses import replace

import numpy as np

from pipeline.placement import THEME_PATH, ThemePlacer, load_placer, save_placer
from pipeline.records import OTHER_ID


def _theme_of(result) -> dict[str, str]:
    return {a.unit_id: a.theme_id for a in result.assignments}


def test_the_same_units_keep_the_same_themes(sample_clean, sample_vectors, sample_clustered):
    placer = ThemePlacer().fit(sample_clustered, sample_clean.units, sample_vectors)
    assert placer.reason_to_recluster(sample_clean.units) is None
    placed = placer.place(sample_clean.units, sample_vectors)
    assert placed.assignments == sample_clustered.assignments
    assert [t.theme_id for t in placed.themes] == [t.theme_id for t in sample_clustered.themes]
    assert placed.parameters[THEME_PATH] == {
        "path": "placed",
        "new_units": 0,
        "gone_units": 0,
        "placed_in_other": 0,
        "placed_since_clustering": 0,
        "clustered_units": len(sample_clean.units),
    }


def test_a_new_unit_goes_to_the_theme_of_its_twin_and_a_stray_one_to_autres(sample_clean, sample_vectors, sample_clustered):
    units, theme_of = sample_clean.units, _theme_of(sample_clustered)
    placer = ThemePlacer().fit(sample_clustered, units, sample_vectors)
    # the unit nearest its theme's centre, written again by a new respondent, and one pointing nowhere in particular
    biggest = Counter(t for t in theme_of.values() if t != OTHER_ID).most_common(1)[0][0]
    row = max(
        (i for i, u in enumerate(units) if theme_of[u.unit_id] == biggest),
        key=lambda i: next(a.score for a in sample_clustered.assignments if a.unit_id == units[i].unit_id),
    )
    twin = replace(units[row], unit_id="new-1", respondent_id="new-1", text=units[row].text + " Vraiment.")
    stray = replace(units[0], unit_id="new-2", respondent_id="new-2", text="Le bleu du ciel.")
    stray_vector = np.zeros(sample_vectors.shape[1], dtype=np.float32)
    stray_vector[0] = 1.0
    vectors = np.vstack([sample_vectors, sample_vectors[row], stray_vector])
    placed = placer.place([*units, twin, stray], vectors)
    assert _theme_of(placed)["new-1"] == biggest
    assert _theme_of(placed)["new-2"] == OTHER_ID
    assert {u: t for u, t in _theme_of(placed).items() if not u.startswith("new-")} == theme_of
    assert placed.parameters[THEME_PATH]["new_units"] == 2 and placed.parameters[THEME_PATH]["placed_in_other"] == 1
    # the placer now holds this file: the same file again has nothing new, but its two placements still count
    assert placer.changes([*units, twin, stray]) == (0, 0)
    assert placer.placed_units_ == 2


def test_too_many_changes_ask_for_a_new_clustering_in_french(sample_clean, sample_vectors, sample_clustered):
    units = sample_clean.units
    placer = ThemePlacer(max_changed_share=0.10).fit(sample_clustered, units, sample_vectors)
    tenth = len(units) // 10
    assert placer.reason_to_recluster(units[: len(units) - tenth + 1]) is None  # a few gone: still placed
    edited = [replace(u, text=u.text + " (modifié)") for u in units[: tenth + 5]] + units[tenth + 5 :]
    reason = placer.reason_to_recluster(edited)  # an edited answer is one unit gone and one new
    changed = f"{2 * (tenth + 5)} idées nouvelles, modifiées ou disparues"
    assert reason == f"{changed} depuis le dernier regroupement, plus de 10 % du fichier"


def test_a_placer_is_found_again_under_its_key(sample_clean, sample_vectors, sample_clustered, tmp_path):
    from pipeline import settings

    with settings.overridden(cache=tmp_path):
        assert load_placer("k1") is None
        placer = ThemePlacer().fit(sample_clustered, sample_clean.units, sample_vectors)
        save_placer("k1", placer)
        found = load_placer("k1")
    assert found.digest() == placer.digest() and found.result_.assignments == sample_clustered.assignments
