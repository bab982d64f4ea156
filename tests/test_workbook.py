"""themes.xlsx as people open it (read back with openpyxl), and a classified wave's tested changes in its files."""

import json
import os
import time
import zipfile
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
from openpyxl.chart import BarChart

from pipeline import exporters
from pipeline.bundle import Bundle
from pipeline.export import themes_frame
from pipeline.exporters import start_outputs, write_outputs
from pipeline.manifest import InputInfo, Manifest, count
from pipeline.messages import say
from pipeline.records import Assignment, IdeaUnit, Response, Theme
from pipeline.significance import MIN_BASE
from pipeline.workbook import MAX_WIDTH
from review.classify import add_share_changes

# 100 respondents: r0-r49 "jeunes", r50-r89 "seniors", r90-r99 "autres" (a base under MIN_BASE). Each theme's
# respondents, and its share in the previous wave of 100 respondents.
MEMBERS = {"prix": range(0, 45), "accueil": range(45, 65), "horaires": range(65, 87), "autres": range(87, 100)}
PREVIOUS = {"prix": 0.30, "accueil": 0.40, "horaires": 0.20, "autres": 0.13}
INJECTION = '=HYPERLINK("http://x")'


def _age(i: int) -> str:
    return "jeunes" if i < 50 else "seniors" if i < 90 else "autres"


@pytest.fixture
def bundle() -> Bundle:
    responses = [Response(f"r{i}", "", {"age": _age(i)}) for i in range(100)]
    bases = {value: sum(_age(i) == value for i in range(100)) for value in ("jeunes", "seniors", "autres")}
    units, assignments, themes = [], [], []
    for theme_id, members in MEMBERS.items():
        for i in members:
            text = INJECTION if i == 0 else f"réponse {i} sur {theme_id}"
            units.append(IdeaUnit(f"r{i}#1", f"r{i}", text, text))
            assignments.append(Assignment(f"r{i}#1", theme_id, 0.8))
        shares = {value: sum(_age(i) == value for i in members) / base for value, base in bases.items()}
        themes.append(
            Theme(
                theme_id,
                theme_id.capitalize(),
                [theme_id],
                n_units=len(members),
                n_respondents=len(members),
                share=len(members) / 100,
                quotes=[INJECTION if theme_id == "prix" else f"une citation sur {theme_id}"],
                segments={"age": shares},
                segment_bases={"age": bases},
            )
        )
    themes.sort(key=lambda t: (t.theme_id == "autres", -t.share))
    for rank, theme in enumerate(themes, start=1):
        theme.rank = rank
    add_share_changes(themes, PREVIOUS, 100, 100)  # as a classified wave's flow does
    manifest = Manifest(
        run_id="vague2",
        question="Q ?",
        input=InputInfo(file="vague2.csv", sha256="0" * 64, segment_columns=["age"]),
        parameters={},
        counts=count(100, units, [], len(themes)),
        previous_run_id="vague1",
    )
    return Bundle(themes, assignments, units, [], responses, manifest)


@pytest.fixture
def book(bundle, tmp_path):
    path = write_outputs(tmp_path, bundle)["themes.xlsx"]
    return path, openpyxl.load_workbook(path)


def _columns(sheet) -> dict[str, str]:
    """Column letter by French header."""
    return {cell.value: cell.column_letter for cell in sheet[1]}


def test_a_sheet_per_table_with_french_headers_frozen_and_filtered(book, bundle):
    _, wb = book
    assert wb.sheetnames == ["Thèmes", "Regroupements", "Segments", "Idées", "Écartées", "Graphique", "Lecture"]
    themes = _columns(wb["Thèmes"])
    assert {"Rang", "Libellé", "Répondants", "Part", "Évolution (pt)", "Part (vague précédente)"} <= set(themes)
    assert {"Base (vague précédente)", "p ajustée (évolution)", "Évolution significative", "Citation 1"} <= set(themes)
    assert not {"rank", "share", "n_respondents", "change_pts", "previous_share", "quote_1"} & set(themes)
    for name in ["Thèmes", "Regroupements", "Segments", "Idées", "Écartées"]:
        sheet = wb[name]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    assert wb["Idées"].max_row == 1 + len(bundle.assignments) and wb["Écartées"].max_row == 1  # the header alone


def test_shares_are_fractions_shown_as_percentages_and_counts_integers(book, bundle):
    _, wb = book
    sheet = wb["Thèmes"]
    columns = _columns(sheet)
    for title in ["Part", "Part (thème)", "Part (vague précédente)"]:
        cells = sheet[columns[title]][1:]
        assert all("%" in c.number_format for c in cells)
        assert all(isinstance(c.value, float) and 0 <= c.value <= 1 for c in cells)
    assert [c.value for c in sheet[columns["Part"]][1:]] == [t.share for t in bundle.themes]  # 0.45, not 45
    respondents = sheet[columns["Répondants"]][1:]
    assert [c.value for c in respondents] == [45, 22, 20, 13] and all(c.number_format == "0" for c in respondents)
    segments = wb["Segments"]
    columns = _columns(segments)
    for title in ["Part", "IC 95 % bas", "IC 95 % haut"]:
        assert all("%" in c.number_format and 0 <= c.value <= 1 for c in segments[columns[title]][1:])
    nets = wb["Regroupements"]
    columns = _columns(nets)
    low, share, high = (nets[f"{columns[t]}2"].value for t in ["IC 95 % bas", "Part", "IC 95 % haut"])
    assert low < share == 0.45 < high and "%" in nets[f"{columns['IC 95 % bas']}2"].number_format


def test_columns_are_fitted_and_long_texts_wrapped(bundle, tmp_path):
    bundle.units[1] = replace(bundle.units[1], text="mot " * 40)  # 160 characters
    sheet = openpyxl.load_workbook(write_outputs(tmp_path, bundle)["themes.xlsx"])["Idées"]
    # openpyxl keys a run of alike columns by its first letter
    runs = [d for d in sheet.column_dimensions.values() if d.min]
    dimension = {cell.value: next(d for d in runs if d.min <= cell.column <= d.max) for cell in sheet[1]}
    # Excel stores a width of n characters as n + 5 pixels / 7 (0.71): the header's, or the longest value's, + 2
    assert dimension["Répondant"].width == pytest.approx(len("Répondant") + 2, abs=0.75)
    assert dimension["Libellé"].width == pytest.approx(len("Horaires") + 2, abs=0.75)
    assert dimension["Texte"].width == pytest.approx(MAX_WIDTH, abs=0.75) and dimension["Texte"].alignment.wrap_text
    assert not dimension["Libellé"].alignment.wrap_text and dimension["Score"].number_format == "0.00"


def test_significant_segment_cells_are_coloured_and_small_bases_greyed(book, bundle):
    _, wb = book
    sheet = wb["Segments"]
    columns = _columns(sheet)
    ranges = {str(cf.sqref): [rule.formula[0] for rule in cf.rules] for cf in sheet.conditional_formatting}
    whole = f"A2:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    tested, significant, direction = columns["Testé"], columns["Significatif"], columns["Sens"]
    assert ranges == {
        whole: [
            f"NOT(${tested}2)",
            f'AND(${significant}2,${direction}2="au-dessus")',
            f'AND(${significant}2,${direction}2="au-dessous")',
        ]
    }
    rows = pd.read_excel(book[0], sheet_name="Segments")
    prix = rows[rows.Id == "prix"].set_index("Valeur")
    # prix: 45 of the 50 jeunes against 0 of the 50 others; "autres" (10 respondents) is not tested
    assert prix.loc["jeunes", "Significatif"] and prix.loc["jeunes", "Sens"] == "au-dessus"
    assert prix.loc["seniors", "Sens"] == "au-dessous" and not prix.loc["autres", "Testé"]
    assert prix.loc["autres", "Base"] < MIN_BASE
    legend = [row[0].value for row in wb["Lecture"].iter_rows()]
    assert say("workbook.above") in legend and say("workbook.small", min_base=MIN_BASE) in legend
    assert say("workbook.change") in legend  # a classified wave: its change marks are explained too


def test_significant_changes_are_coloured_on_the_themes_sheet(book):
    _, wb = book
    sheet = wb["Thèmes"]
    columns = _columns(sheet)
    change, significant = columns["Évolution (pt)"], columns["Évolution significative"]
    ranges = {str(cf.sqref): [rule.formula[0] for rule in cf.rules] for cf in sheet.conditional_formatting}
    cells = f"{change}2:{change}{sheet.max_row}"
    assert ranges == {cells: [f"AND(${significant}2,${change}2>0)", f"AND(${significant}2,${change}2<0)"]}


def test_native_bar_charts_of_the_nets_shares_and_of_the_two_waves(book, bundle):
    path, wb = book
    ranked, waves = wb["Graphique"]._charts
    assert isinstance(ranked, BarChart) and ranked.type == "bar" and isinstance(waves, BarChart)
    (series,) = ranked.series
    nets, last = _columns(wb["Regroupements"]), 1 + len(bundle.nets)
    assert series.val.numRef.f == f"Regroupements!${nets['Part']}$2:${nets['Part']}${last}"
    assert series.cat.strRef.f == f"Regroupements!${nets['Thème']}$2:${nets['Thème']}${last}"
    themes, last = _columns(wb["Thèmes"]), 1 + len(bundle.themes)
    shares = [themes["Part (vague précédente)"], themes["Part"]]
    assert [s.val.numRef.f for s in waves.series] == [f"Thèmes!${c}$2:${c}${last}" for c in shares]
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/charts/chart1.xml").decode() + z.read("xl/charts/chart2.xml").decode()
    for text in ["workbook.chart", "workbook.chart_axis", "workbook.waves_chart", "workbook.previous_wave"]:
        assert say(text) in xml


def test_a_first_wave_has_one_chart(bundle, tmp_path):
    for theme in bundle.themes:
        theme.change_pts = None
    sheet = openpyxl.load_workbook(write_outputs(tmp_path, bundle)["themes.xlsx"])["Graphique"]
    assert len(sheet._charts) == 1


def test_a_verbatim_starting_with_equals_stays_text(book):
    path, wb = book
    texts = [c.value for c in wb["Idées"]["D"][1:]]
    assert wb["Idées"]["D1"].value == "Texte" and f"'{INJECTION}" in texts
    quote = wb["Thèmes"][f"{_columns(wb['Thèmes'])['Citation 1']}2"]
    assert quote.value == f"'{INJECTION}" and quote.data_type == "s"
    with zipfile.ZipFile(path) as z:  # no cell of any sheet is a formula
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def test_a_classified_waves_changes_are_tested_and_marked(bundle, tmp_path):
    # previous wave 100 respondents, this one 100: p (two-proportion z-test) autres 13/100 vs 13/100 = 1,
    # accueil 20/100 vs 40/100 = 0.002028, prix 45/100 vs 30/100 = 0.028460, horaires 22/100 vs 20/100 = 0.72843;
    # Benjamini-Hochberg over the 4 themes: accueil 0.002028·4/1 = 0.00811, prix 0.02846·4/2 = 0.05692,
    # horaires 0.72843·4/3 = 0.97125, autres 1: only accueil's fall is beyond chance once corrected
    of = {t.theme_id: t for t in bundle.themes}
    assert of["accueil"].change_p == pytest.approx(0.00811, abs=1e-5) and of["accueil"].change_significant
    assert of["prix"].change_p == pytest.approx(0.05692, abs=1e-5) and not of["prix"].change_significant
    assert of["prix"].previous_share == 0.30 and of["prix"].previous_base == 100 and of["prix"].change_pts == 15.0
    table = themes_frame(bundle.themes, bundle.nets).set_index("theme_id")
    assert table.loc["accueil", "change_significant"] and table.loc["prix", "change_p"] == of["prix"].change_p
    assert table.loc["horaires", "previous_share"] == 0.20 and table.loc["horaires", "previous_base"] == 100
    paths = write_outputs(tmp_path, bundle)
    document = {t["theme_id"]: t for t in json.loads(paths["themes.json"].read_text(encoding="utf-8"))["themes"]}
    assert document["accueil"]["change_significant"] and document["accueil"]["previous_base"] == 100
    report = paths["report.md"].read_text(encoding="utf-8")
    assert "| 1 | Prix | 45 | 45% | +15,0 pt |" in report  # significant alone, not once corrected: no mark
    assert "| 3 | Accueil | 20 | 20% | -20,0 pt ▼ |" in report
    assert "(100 répondants ; cette vague : 100 répondants). ▲ / ▼ : évolution significative" in report
    assert "Benjamini-Hochberg sur les thèmes" in report


def test_changes_between_small_waves_are_shown_untested(bundle, tmp_path):
    add_share_changes(bundle.themes, PREVIOUS, MIN_BASE - 1, 100)
    assert all(t.change_p is None and not t.change_significant for t in bundle.themes)
    report = write_outputs(tmp_path, bundle)["report.md"].read_text(encoding="utf-8")
    assert f"non testée : moins de {MIN_BASE} répondants" in report and " pt ▼" not in report and " pt ▲" not in report
    assert "| 3 | Accueil | 20 | 20% | -20,0 pt |" in report


def _cells(path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(cell.value for cell in row) for row in sheet.iter_rows()] for sheet in book}


def test_the_workbook_written_in_a_fork_holds_what_this_process_writes(bundle, tmp_path, monkeypatch):
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    here = write_outputs(tmp_path / "here", bundle)
    assert not forks  # 100 units: under FORK_MIN_UNITS
    monkeypatch.setattr(exporters, "FORK_MIN_UNITS", 1)
    forked = write_outputs(tmp_path / "forked", bundle)
    assert forks == [1]
    assert _cells(forked["themes.xlsx"]) == _cells(here["themes.xlsx"])
    assert (tmp_path / "forked" / "assignments.csv").read_bytes() == (tmp_path / "here" / "assignments.csv").read_bytes()


def test_a_workbook_that_fails_in_the_fork_fails_here_with_its_error(bundle, tmp_path, monkeypatch):
    def broken(path, bundle):
        raise ValueError("classeur cassé")

    monkeypatch.setattr(exporters, "FORK_MIN_UNITS", 1)
    monkeypatch.setattr(exporters, "write_workbook", broken)
    with pytest.raises(ValueError, match="classeur cassé"):
        write_outputs(tmp_path, bundle)
    assert (tmp_path / "themes.csv").exists() and (tmp_path / "report.pptx").exists()  # the others were written


def test_the_fork_is_waited_for_when_another_file_fails(bundle, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("rapport cassé")

    monkeypatch.setattr(exporters, "FORK_MIN_UNITS", 1)
    monkeypatch.setattr(exporters, "markdown_report", broken)
    with pytest.raises(ValueError, match="rapport cassé"):
        write_outputs(tmp_path, bundle)
    assert openpyxl.load_workbook(tmp_path / "themes.xlsx").sheetnames  # whole: the fork had ended


def test_the_workbook_is_still_being_written_when_the_other_files_are_done(bundle, tmp_path, monkeypatch):
    """``start_outputs`` leaves the fork writing (the flow records the run meanwhile); ``finish`` waits for it."""
    go = tmp_path / "go"
    write = exporters.write_workbook

    def held(path, bundle):  # in the fork: waits for the test to look, at most 30 s
        deadline = time.monotonic() + 30
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        write(path, bundle)

    monkeypatch.setattr(exporters, "FORK_MIN_UNITS", 1)
    monkeypatch.setattr(exporters, "write_workbook", held)
    writing = start_outputs(tmp_path / "out", bundle)
    assert (tmp_path / "out" / "themes.csv").exists() and (tmp_path / "out" / "report.pptx").exists()
    assert not (tmp_path / "out" / "themes.xlsx").exists()
    go.touch()
    assert openpyxl.load_workbook(writing.finish(bundle)["themes.xlsx"]).sheetnames


def test_a_workbook_too_large_to_hold_is_written_a_row_at_a_time_with_the_same_cells(bundle, tmp_path, monkeypatch):
    from pipeline import workbook

    held = write_outputs(tmp_path / "held", bundle)["themes.xlsx"]
    opened = []
    writer = pd.ExcelWriter
    monkeypatch.setattr(workbook, "CONSTANT_MEMORY_ROWS", 10)
    monkeypatch.setattr(pd, "ExcelWriter", lambda *a, **k: opened.append(k["engine_kwargs"]["options"]) or writer(*a, **k))
    streamed = write_outputs(tmp_path / "streamed", bundle)["themes.xlsx"]
    assert opened == [workbook.LARGE_OPTIONS] and opened[0]["constant_memory"]
    assert _cells(streamed) == _cells(held)
