import json

import pandas as pd

from pipeline.export import safe_cell, write_outputs
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


def test_every_file_is_written_and_readable(tmp_path):
    units = [IdeaUnit("a#1", "a", '=HYPERLINK("http://x")', "x"), IdeaUnit("a#2", "a", "Du <b>temps</b>", "temps")]
    theme = Theme(
        "temps",
        "Temps",
        ["temps"],
        rank=1,
        n_units=2,
        n_respondents=1,
        share=1.0,
        quotes=["Du <b>temps</b>"],
        segments={"niveau": {"x": 1.0}},
    )
    assignments = [Assignment("a#1", "temps", 0.5), Assignment("a#2", "temps", 0.9)]
    excluded = [Excluded("b", "RAS", 'non-answer ("RAS")')]
    manifest = Manifest(
        run_id="r1",
        question="Q ?",
        input=InputInfo(file="in.csv", sha256="0" * 64, segment_columns=["niveau"]),
        parameters={},
        counts=count(2, units, excluded, 1),
    )
    paths = write_outputs(tmp_path, [theme], assignments, units, excluded, [Response("a", "", {"niveau": "x"})], manifest)
    manifest.write(tmp_path)
    rows = pd.read_csv(paths["assignments.csv"], dtype=str)
    assert list(rows.columns[:7]) == ["id", "unit_no", "unit_id", "text", "theme_id", "theme_label", "score"]
    assert rows.text[0].startswith("'=") and rows.unit_no.tolist() == ["1", "2"] and rows.niveau[0] == "x"
    assert pd.read_csv(paths["excluded.csv"]).to_dict("records") == [
        {"id": "b", "text": "RAS", "reason": 'non-answer ("RAS")'}
    ]
    book = pd.read_excel(paths["themes.xlsx"], sheet_name=None)
    assert list(book) == ["Thèmes", "Segments", "Idées", "Écartées"] and book["Thèmes"].label[0] == "Temps"
    assert json.loads(paths["themes.json"].read_text())["themes"][0]["quotes"] == ["Du <b>temps</b>"]
    report = paths["report.md"].read_text()
    assert "| 1 | Temps | 1 | 100% |" in report and "&lt;b&gt;" in report and "<b>" not in report
    assert json.loads((tmp_path / "manifest.json").read_text())["run_id"] == "r1"
    assert Manifest.read(tmp_path) == manifest
