import json

import pandas as pd
import pytest

from pipeline.bundle import Bundle
from pipeline.export import safe_cell
from pipeline.exporters import EXPORTERS, downloads, write_outputs
from pipeline.manifest import InputInfo, Manifest, count
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+33", "-x", "@SUM(A1)", "ok", 3)] == [
        "'=1+1",
        "'+33",
        "'-x",
        "'@SUM(A1)",
        "ok",
        3,
    ]


@pytest.fixture
def bundle() -> Bundle:
    units = [IdeaUnit("a#1", "a", '=HYPERLINK("http://x")', "x"), IdeaUnit("a#2", "a", "Du <b>temps</b>", "temps")]
    themes = [
        Theme(
            "temps",
            "Temps",
            ["temps"],
            rank=1,
            n_units=2,
            n_respondents=1,
            share=1.0,
            quotes=["Du <b>temps</b>", "=1+1"],
            segments={"niveau": {"x": 1.0}},
            net_id="temps",
            net_label="Temps",
        ),
        Theme("autres", "Autres", ["x"], rank=2, n_units=1, n_respondents=1, share=0.5, quotes=["Rien"]),
    ]
    assignments = [Assignment("a#1", "temps", 0.5), Assignment("a#2", "temps", 0.9)]
    excluded = [Excluded("b", "RAS", 'non-answer ("RAS")')]
    manifest = Manifest(
        run_id="r1",
        question="Q ?",
        input=InputInfo(file="in.csv", sha256="0" * 64, segment_columns=["niveau"]),
        parameters={},
        counts=count(2, units, excluded, 2),
    )
    return Bundle(themes, assignments, units, excluded, [Response("a", "", {"niveau": "x"})], manifest)


def test_every_file_is_written_and_readable(tmp_path, bundle):
    paths = write_outputs(tmp_path, bundle)
    bundle.manifest.write(tmp_path)
    # every file but the wave chart: this run is no wave compared with an earlier one
    assert set(paths) == set(EXPORTERS) - {"chart-vagues.png"} and all(p.exists() for p in paths.values())
    rows = pd.read_csv(paths["assignments.csv"], dtype=str)
    assert list(rows.columns[:7]) == ["id", "unit_no", "unit_id", "text", "theme_id", "theme_label", "score"]
    assert rows.text[0].startswith("'=") and rows.unit_no.tolist() == ["1", "2"] and rows.niveau[0] == "x"
    assert pd.read_csv(paths["excluded.csv"]).to_dict("records") == [
        {"id": "b", "text": "RAS", "reason": 'non-answer ("RAS")'}
    ]
    book = pd.read_excel(paths["themes.xlsx"], sheet_name=None)
    sheets = ["Thèmes", "Regroupements", "Segments", "Idées", "Écartées", "Graphique", "Lecture"]
    assert list(book) == sheets and book["Thèmes"]["Libellé"][0] == "Temps"
    assert json.loads(paths["themes.json"].read_text())["themes"][0]["quotes"] == ["Du <b>temps</b>", "=1+1"]
    report = paths["report.md"].read_text()
    assert "| 1 | Temps | 1 | 100% |" in report and "&lt;b&gt;" in report and "<b>" not in report
    assert json.loads((tmp_path / "manifest.json").read_text())["run_id"] == "r1"
    assert Manifest.read(tmp_path) == bundle.manifest


def test_exports_carry_nets_and_the_report_ranks_nets_then_their_codes(tmp_path, bundle):
    shared = "n-0000"
    bundle.units.append(IdeaUnit("c#1", "c", "Des délais", "délai"))
    bundle.assignments.append(Assignment("c#1", "delais", 0.8))
    bundle.themes.insert(1, Theme("delais", "Délais", ["délai"], rank=2, n_units=1, n_respondents=1, share=0.5))
    for theme in bundle.themes[:2]:
        theme.net_id, theme.net_label = shared, "Temps et délais"
    paths = write_outputs(tmp_path, bundle)
    table = pd.read_csv(paths["themes.csv"])
    assert list(table.columns[:6]) == ["rank", "net_rank", "net_id", "net_label", "net_respondents", "net_share"]
    assert table.net_id.tolist() == [shared, shared, "autres"] and table.net_rank.tolist() == [1, 1, 2]
    assert table.net_respondents.tolist()[:2] == [2, 2]  # a and c, each once
    assert pd.read_parquet(paths["themes.parquet"]).net_label[0] == "Temps et délais"
    document = json.loads(paths["themes.json"].read_text())
    assert document["nets"][0]["code_ids"] == ["temps", "delais"] and document["themes"][1]["net_rank"] == 1
    rows = pd.read_csv(paths["assignments.csv"])
    assert rows.net_id.tolist() == [shared, shared, shared] and rows.net_label[2] == "Temps et délais"
    report = paths["report.md"].read_text()
    assert "| 1 | **Temps et délais** | 2 | " in report and "| 1.2 | Délais | 1 | 50% |" in report
    assert "## 1. Temps et délais" in report and "### 1.1. Temps (100%)" in report and "## 2. Autres" in report


def test_parquet_holds_the_themes_table_of_the_csv(tmp_path, bundle):
    paths = write_outputs(tmp_path, bundle)
    parquet, csv = pd.read_parquet(paths["themes.parquet"]), pd.read_csv(paths["themes.csv"])
    pd.testing.assert_frame_equal(parquet, csv, check_dtype=False)
    assert parquet.share.dtype == float and parquet.from_codebook.dtype == bool  # typed, unlike the CSV
    assert parquet.quote_2.isna().tolist() == [False, True]


def test_a_run_with_no_theme_still_writes_every_file(tmp_path, bundle):
    bundle.themes, bundle.assignments, bundle.units = [], [], []
    paths = write_outputs(tmp_path, bundle)
    assert pd.read_parquet(paths["themes.parquet"]).empty and all(p.exists() for p in paths.values())


def test_downloads_are_offered_by_format_name():
    offered = downloads()
    assert list(offered) == ["csv", "xlsx", "json", "parquet", "pptx"]
    assert offered["parquet"].file_name == "themes.parquet" and offered["csv"].media_type == "text/csv"
    assert "report.md" in EXPORTERS and "md" not in offered  # written, not offered as a download


def test_coherence_and_mixed_flags_are_exported(tmp_path, bundle):
    bundle.themes[0].coherence, bundle.themes[-1].mixed = 2.5, True
    paths = write_outputs(tmp_path, bundle)
    table = pd.read_csv(paths["themes.csv"])
    assert table.coherence[0] == 2.5 and table.mixed.tolist()[-1]
    assert json.loads(paths["themes.json"].read_text())["themes"][0]["coherence"] == 2.5
