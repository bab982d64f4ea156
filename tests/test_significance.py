from pathlib import Path

import pandas as pd
import pytest

from pipeline.analysis import Analysis
from pipeline.export import SIGNIFICANCE_LEGEND, segments_frame
from pipeline.exporters import write_outputs
from pipeline.records import Theme
from pipeline.significance import MIN_BASE, benjamini_hochberg, segment_cells, two_proportion_test, wave_changes, wilson


def test_wilson_interval_on_a_hand_computed_case():
    # 8/30, z = 1.96: p = 0.26667, z²/n = 0.12805, so the centre is (0.26667 + 0.06403) / 1.12805 = 0.29316 and the
    # half-width 1.96 · √(0.26667 · 0.73333 / 30 + 3.84146 / 3600) / 1.12805 = 1.96 · 0.087095 / 1.12805 = 0.15133
    low, high = wilson(8, 30)
    assert low == pytest.approx(0.14183, abs=1e-4) and high == pytest.approx(0.44448, abs=1e-4)
    assert wilson(0, 30)[0] == 0.0 and wilson(30, 30)[1] == pytest.approx(1.0)  # stays inside [0, 1]


def test_two_proportion_z_test_has_the_known_p_value():
    # 30/100 against 15/100: pooled share 45/200 = 0.225, se = √(0.225 · 0.775 · (1/100 + 1/100)) = 0.059055,
    # z = (0.30 − 0.15) / 0.059055 = 2.5400, two-sided p = 2 · (1 − Φ(2.54)) = 2 · 0.0055426 = 0.011085
    z, p = two_proportion_test(30, 100, 15, 100)
    assert z == pytest.approx(2.5400, abs=1e-4) and p == pytest.approx(0.011085, abs=1e-5)
    assert two_proportion_test(15, 100, 30, 100) == pytest.approx((-z, p))
    assert two_proportion_test(0, 40, 0, 60) == (0.0, 1.0)  # nobody raises it on either side: nothing to test


def test_benjamini_hochberg_adjusts_in_rank_order():
    # p·m/rank over the sorted list: 0.005·4/1 = 0.02, 0.01·4/2 = 0.02, 0.03·4/3 = 0.04, 0.04·4/4 = 0.04,
    # handed back in the input's order
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # 0.01·3/1 = 0.03 and 0.02·3/2 = 0.03 exceed 0.021·3/3 = 0.021: a smaller p never gets a larger adjusted value
    assert benjamini_hochberg([0.021, 0.01, 0.02]) == pytest.approx([0.021, 0.021, 0.021])
    # Benjamini & Hochberg (1995)'s 15 p-values: at 5%, the 4 smallest are rejected, Bonferroni would keep 3
    raw = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528]
    raw += [0.759, 1.0]
    adjusted = benjamini_hochberg(raw)
    assert sum(p < 0.05 for p in adjusted) == 4 and sum(p * 15 < 0.05 for p in raw) == 3
    assert adjusted == sorted(adjusted) and all(a >= p for a, p in zip(adjusted, raw, strict=True))
    assert adjusted[3] == pytest.approx(0.0095 * 15 / 4) and adjusted[-1] == 1.0


def _theme(theme_id: str, hits: dict[str, int], bases: dict[str, int]) -> Theme:
    shares = {value: hits[value] / bases[value] for value in bases}
    return Theme(theme_id, theme_id, [], segments={"age": shares}, segment_bases={"age": bases})


def test_cells_are_tested_against_the_rest_and_small_bases_are_not():
    bases = {"jeunes": 100, "seniors": 100, "autres": MIN_BASE - 1}
    cells = segment_cells([_theme("prix", {"jeunes": 30, "seniors": 15, "autres": 5}, bases)])
    young, old, small = cells
    # jeunes 30/100 against the rest 20/129 (0.15504): pooled 50/229 = 0.21834,
    # se = √(0.21834 · 0.78166 · (1/100 + 1/129)) = 0.055043, z = 0.14496 / 0.055043 = 2.6336, p = 2 · (1 − Φ(z)) = 0.00845
    assert young.tested and young.direction == "above" and young.p_value == pytest.approx(0.00845, abs=1e-5)
    assert old.tested and old.direction == "below"
    # two tested cells: the larger p stays as it is (· 2/2), the smaller is doubled (· 2/1) but never above it
    small_p, large_p = sorted([young.p_value, old.p_value])
    adjusted = {young.p_value: young.p_adjusted, old.p_value: old.p_adjusted}
    assert adjusted[large_p] == large_p and adjusted[small_p] == pytest.approx(min(2 * small_p, large_p))
    assert young.significant and young.p_adjusted < 0.05
    assert not small.tested and small.p_value is None and small.p_adjusted is None and not small.significant
    assert small.base == MIN_BASE - 1 and small.ci_low is not None  # its base and interval are still shown


def test_the_report_marks_significant_cells_shows_bases_and_says_why():
    bases = {"jeunes": 100, "seniors": 100, "autres": 10}
    theme = _theme("prix", {"jeunes": 30, "seniors": 10, "autres": 5}, bases)
    cells = {(c.theme_id, c.segment, c.value): c for c in segment_cells([theme])}
    from pipeline.export import _segment_cell

    assert _segment_cell(cells["prix", "age", "jeunes"]) == "jeunes 30% ▲ (n = 100)"
    assert _segment_cell(cells["prix", "age", "seniors"]) == "seniors 10% ▼ (n = 100)"
    assert _segment_cell(cells["prix", "age", "autres"]) == "_autres 50% (n = 10)_"  # not tested: in italics
    assert "Benjamini-Hochberg" in SIGNIFICANCE_LEGEND and f"moins de {MIN_BASE}" in SIGNIFICANCE_LEGEND


@pytest.fixture(scope="module")
def sample_outputs(sample_dataset, codebook, tmp_path_factory):
    analysis = Analysis(codebook=codebook)
    analysed = analysis.run(sample_dataset)
    manifest = analysis.manifest("r1", Path("sample.csv"), analysed, None, {})
    bundle = analysed.bundle(manifest)
    return bundle, write_outputs(tmp_path_factory.mktemp("out"), bundle)


def test_the_samples_segments_csv_carries_intervals_and_corrected_tests(sample_outputs, sample_dataset):
    bundle, paths = sample_outputs
    table = pd.read_csv(paths["segments.csv"])
    new = ["base", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "direction", "tested"]
    assert set(new) <= set(table.columns)
    assert set(table.segment) == set(sample_dataset.segment_columns) and sample_dataset.segment_columns
    # a respondent is in one value of each column: the bases of a theme's column add up to every analysed respondent
    kept = bundle.manifest.counts.respondents_kept
    assert (table.groupby(["theme_id", "segment"]).base.sum() == kept).all()
    assert ((table.ci_low <= table.share + 1e-4) & (table.share <= table.ci_high + 1e-4)).all()
    assert table.ci_low.between(0, 1).all() and table.ci_high.between(0, 1).all()
    tested, untested = table[table.tested], table[~table.tested]
    assert len(tested) and len(untested) and (untested.base < MIN_BASE).any()
    assert tested.p_value.between(0, 1).all() and (tested.p_adjusted >= tested.p_value - 1e-12).all()
    assert untested.p_value.isna().all() and untested.p_adjusted.isna().all() and not untested.significant.any()
    assert (table.significant == (table.p_adjusted < 0.05)).all()
    assert set(tested.direction.dropna()) <= {"above", "below"}
    report = paths["report.md"].read_text(encoding="utf-8")
    assert SIGNIFICANCE_LEGEND in report and "(n = " in report
    marks = report.count(" ▲ (n = ") + report.count(" ▼ (n = ")
    assert marks == table.significant.sum()


def test_segments_frame_keeps_its_columns_without_segments():
    frame = segments_frame([Theme("t", "T", [])])
    assert frame.empty and list(frame.columns)[:6] == ["rank", "theme_id", "label", "segment", "value", "share"]


def test_a_wave_change_has_the_known_p_value():
    # 30/100 in the previous wave, 45/100 in this one: pooled share 75/200 = 0.375,
    # se = √(0.375 · 0.625 · (1/100 + 1/100)) = 0.068465, z = (0.45 − 0.30) / 0.068465 = 2.1909,
    # two-sided p = 2 · (1 − Φ(2.1909)) = 0.028460
    (change,) = wave_changes({"prix": 0.30}, 100, {"prix": 0.45}, 100)
    assert change.tested and change.p_value == pytest.approx(0.028460, abs=1e-6)
    assert change.p_adjusted == change.p_value and change.significant  # one theme: nothing to correct for
    (new,) = wave_changes({}, 100, {"prix": 0.10}, 100)  # not raised in the previous wave: a share of 0 there
    assert new.previous_share == 0.0 and new.p_value == pytest.approx(two_proportion_test(10, 100, 0, 100)[1])


def test_wave_changes_are_corrected_over_the_themes():
    # raw p: accueil 20→40 % 0.0020282, prix 30→45 % 0.028460, horaires 20→22 % 0.72843, autres 10→10 % 1;
    # Benjamini-Hochberg over 4, in rank order: 0.0020282·4/1 = 0.0081129, 0.028460·4/2 = 0.056919,
    # 0.72843·4/3 = 0.97125, 1·4/4 = 1. Prix is under 5 % alone, not once the four themes are corrected for.
    previous = {"prix": 0.30, "accueil": 0.20, "horaires": 0.20, "autres": 0.10}
    now = {"prix": 0.45, "accueil": 0.40, "horaires": 0.22, "autres": 0.10}
    changes = {c.theme_id: c for c in wave_changes(previous, 100, now, 100)}
    assert [changes[t].p_value for t in ["accueil", "prix", "horaires", "autres"]] == pytest.approx(
        [0.0020282, 0.028460, 0.72843, 1.0], abs=1e-5
    )
    assert [changes[t].p_adjusted for t in ["accueil", "prix", "horaires", "autres"]] == pytest.approx(
        [0.0081129, 0.056919, 0.97125, 1.0], abs=1e-5
    )
    assert {t for t, c in changes.items() if c.significant} == {"accueil"}
    assert changes["prix"].p_value < 0.05


def test_wave_changes_on_a_small_base_are_not_tested():
    changes = wave_changes({"prix": 0.10}, MIN_BASE - 1, {"prix": 0.90}, 500)
    assert [(c.tested, c.p_value, c.significant, c.previous_base) for c in changes] == [(False, None, False, MIN_BASE - 1)]
