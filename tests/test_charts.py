"""Charts as PNG files of a run: drawn from small real records (no model), written by the exporter registry only
for the runs they apply to, linked from report.md, and marked where the segment table says a cell stands out;
drawn once per content, then read from the disk cache (a real SQLite file), which can fail without failing."""

import io
import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from pipeline import charts, settings
from pipeline.bundle import Bundle
from pipeline.charts import (
    CHARTS,
    DOWN_COLOUR,
    DPI,
    MAX_HEAT_VALUES,
    PALE_DOWN,
    PALE_UP,
    SUBTITLE_TOP,
    TITLE_TOP,
    UNTESTED_COLOUR,
    UP_COLOUR,
    WIDTH_IN,
    _bars,
    _fitting,
    drawn,
    percent,
    points,
    wrap,
)
from pipeline.exporters import write_outputs
from pipeline.manifest import InputInfo, Manifest, count
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LONG_QUOTE = "Il faudrait " + "vraiment " * 40 + "plus de temps pour se former."
# who raises each code: 120 respondents, 40 in « Direction » and 80 in « Terrain »
WHO = {"temps": range(0, 60), "budget": range(50, 80), "outils": range(80, 100), "autres": range(100, 120)}
LABELS = {"temps": "Manque de temps", "budget": "Budget", "outils": "Outils adaptés", "autres": "Autres"}
QUOTES = {
    "temps": ["Pas le temps de me former", LONG_QUOTE, "Trop de réunions", "Les journées sont pleines"],
    "budget": ["Aucun budget formation"],
    "outils": ["Des outils plus simples", "Un intranet qui marche", "Des tablettes"],
    "autres": ["Rien à signaler"],
}
NETS = {"temps": ("n-moyens", "Moyens"), "budget": ("n-moyens", "Moyens")}


RANKED, SEGMENTS, WAVES = CHARTS


def ranked_chart(themes, nets, base) -> bytes:
    return RANKED.draw(themes, nets, base).titled


def segments_chart(themes, nets, base) -> bytes:
    return SEGMENTS.draw(themes, nets, base).titled


def waves_chart(themes, nets, base) -> bytes:
    return WAVES.draw(themes, nets, base).titled


def fonction(respondent: int) -> str:
    return "Direction" if respondent < 40 else "Terrain"


def survey_bundle(segments: bool = True, changes: dict[str, float] | None = None) -> Bundle:
    """A run as the pipeline hands it to the exporters, its figures counted from its assignments: the net
    « Moyens » (Manque de temps, Budget), then Outils adaptés, then Autres; « Manque de temps » is raised by every
    respondent of « Direction » and a quarter of « Terrain »."""
    units = [IdeaUnit(f"r{i}#1", f"r{i}", f"réponse {i}", "réponse") for i in range(120)]
    assignments = [Assignment(f"r{i}#1", code, 0.8) for code, who in WHO.items() for i in who]
    bases = {"Direction": 40, "Terrain": 80}
    themes = []
    for rank, (code, who) in enumerate(WHO.items(), start=1):
        shares = {value: sum(fonction(i) == value for i in who) / base for value, base in bases.items()}
        net_id, net_label = NETS.get(code, (code, LABELS[code]))
        themes.append(
            Theme(
                code,
                LABELS[code],
                [code],
                rank=rank,
                n_units=len(who),
                n_respondents=len(who),
                share=len(who) / 120,
                quotes=QUOTES[code],
                segments={"fonction": shares} if segments else {},
                segment_bases={"fonction": bases} if segments else {},
                net_id=net_id,
                net_label=net_label,
                change_pts=(changes or {}).get(code),
            )
        )
    excluded = [Excluded(f"x{i}", "RAS", 'non-réponse ("RAS")') for i in range(10)]
    manifest = Manifest(
        run_id="r1",
        created_at="2026-11-29T10:00:00+00:00",
        question="Qu'est-ce qui freine la culture client ?",
        input=InputInfo(file="in.csv", sha256="0" * 64, segment_columns=["fonction"] if segments else []),
        parameters={},
        counts=count(130, units, excluded, len(themes)),
    )
    responses = [Response(f"r{i}", "", {"fonction": fonction(i)}) for i in range(120)]
    return Bundle(themes, assignments, units, excluded, responses, manifest)


def image(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_MAGIC)
    return imread(io.BytesIO(png), format="png")


def has_colour(pixels: np.ndarray, colour: str) -> bool:
    """Whether a frame or a cell of ``colour`` is drawn: thousands of its pixels, not the few of letters' edges."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(pixels[..., :3] - rgb).max(axis=-1) < 0.01).sum()) > 1500


def test_a_run_with_segments_gets_the_ranked_and_segment_charts_and_its_report_links_them(tmp_path):
    paths = write_outputs(tmp_path, survey_bundle())
    assert image(paths["chart-classement.png"].read_bytes()).shape[1] == WIDTH_IN * DPI  # a fixed width
    assert image(paths["chart-segments.png"].read_bytes()).shape[1] > 0
    assert "chart-vagues.png" not in paths and not (tmp_path / "chart-vagues.png").exists()
    report = paths["report.md"].read_text(encoding="utf-8")
    assert "](chart-classement.png)" in report and "](chart-segments.png)" in report and "vagues" not in report
    assert "![Graphique : les thèmes classés par part de répondants" in report
    assert report.index("](chart-classement.png)") < report.index("## 1. Moyens")  # under the summary


def test_the_wave_chart_comes_only_with_changes(tmp_path):
    paths = write_outputs(tmp_path, survey_bundle(changes={"temps": 4.2, "budget": -3.0, "outils": 0.5}))
    assert image(paths["chart-vagues.png"].read_bytes()).shape[0] > 0
    assert "](chart-vagues.png)" in paths["report.md"].read_text(encoding="utf-8")


def test_no_segment_chart_without_segments_and_none_left_from_an_earlier_run(tmp_path):
    write_outputs(tmp_path, survey_bundle())
    assert (tmp_path / "chart-segments.png").exists()
    paths = write_outputs(tmp_path, survey_bundle(segments=False))  # the same folder, a run without segments
    assert "chart-segments.png" not in paths and not (tmp_path / "chart-segments.png").exists()
    assert "chart-segments" not in paths["report.md"].read_text(encoding="utf-8")
    assert paths["chart-classement.png"].exists()


def test_a_run_without_themes_has_no_chart(tmp_path):
    bundle = survey_bundle()
    bundle.themes, bundle.assignments, bundle.units = [], [], []
    paths = write_outputs(tmp_path, bundle)
    assert not any(name.endswith(".png") for name in paths) and not list(tmp_path.glob("*.png"))


def test_the_ranked_chart_lists_nets_then_their_codes_and_draws_the_same_bytes_twice():
    bundle = survey_bundle()
    bars, shown = _bars(bundle.themes, bundle.nets)
    assert [b.label for b in bars] == ["1. Moyens", "1.1. Manque de temps", "1.2. Budget", "2. Outils adaptés", "3. Autres"]
    assert [b.hits for b in bars] == [80, 60, 30, 20, 20] and shown == 3
    assert bars[0].bold and not bars[1].bold
    first = ranked_chart(bundle.themes, bundle.nets, 120)
    assert first == ranked_chart(bundle.themes, bundle.nets, 120)  # no date nor version in the file
    taller = image(first).shape[0]
    one_net = ranked_chart(bundle.themes[2:3], bundle.nets[1:2], 120)
    assert image(one_net).shape[0] < taller  # a row per bar


def test_the_segment_chart_frames_significant_cells_and_greys_small_bases():
    bundle = survey_bundle()
    # « Direction » raises « Manque de temps » 100 % against 25 % for the rest: significant, framed
    framed = image(segments_chart(bundle.themes, bundle.nets, 120))
    assert has_colour(framed, UP_COLOUR) and not has_colour(framed, UNTESTED_COLOUR)
    for theme in bundle.themes:  # « Direction » down to 20 respondents: under the minimum base, not tested
        theme.segment_bases = {"fonction": {"Direction": 20, "Terrain": 80}}
    small = image(segments_chart(bundle.themes, bundle.nets, 100))
    assert has_colour(small, UNTESTED_COLOUR) and not has_colour(small, UP_COLOUR)


def test_labels_are_wrapped_and_cut_at_a_word():
    assert wrap("Budget") == "Budget"
    long = "Le manque de temps des équipes pour se former aux nouveaux outils numériques de la relation client"
    lines = wrap(long, 30).split("\n")
    assert len(lines) == 2 and all(len(line) <= 30 for line in lines) and lines[-1].endswith("…")
    assert " ".join(lines).removesuffix(" …") in long


def test_figures_read_the_french_way():
    assert percent(0.424) == "42 %" and percent(1.0) == "100 %"
    assert points(3.25) == "+3,2 pt" and points(-1.5) == "−1,5 pt"


def test_a_run_drawn_again_reuses_its_drawing_until_a_figure_changes():
    bundle = survey_bundle()
    first = drawn(bundle.themes, bundle.nets, 120)
    assert [chart.file_name for chart, _ in first] == ["chart-classement.png", "chart-segments.png"]
    assert all(png is before for (_, png), (_, before) in zip(drawn(bundle.themes, bundle.nets, 120), first, strict=True))
    bundle.themes[0].label = "Manque de temps pour se former"  # a reviewer renames a theme: drawn anew
    again = drawn(bundle.themes, bundle.nets, 120)
    assert again is not first and again[0][1] != first[0][1]


def test_labels_and_segment_values_are_drawn_as_typed_never_as_math(tmp_path):
    bundle = survey_bundle(changes={"temps": 1.0})
    hostile = r"Coût en $\frac{a}{$ <script>"  # as math text, an unbalanced formula that cannot be drawn
    bundle.themes[0].label = hostile
    for theme in bundle.themes:
        shares, bases = theme.segments.pop("fonction"), theme.segment_bases.pop("fonction")
        theme.segments[hostile] = {f"{v} {hostile}": share for v, share in shares.items()}
        theme.segment_bases[hostile] = {f"{v} {hostile}": base for v, base in bases.items()}
    paths = write_outputs(tmp_path, bundle)
    assert all(image(paths[name].read_bytes()).size for name in paths if name.endswith(".png"))
    assert len([name for name in paths if name.endswith(".png")]) == 3


def test_the_wave_chart_darkens_only_changes_beyond_noise():
    bundle = survey_bundle(changes={"temps": 12.0, "budget": -3.0, "outils": 0.5})
    pale = image(waves_chart(bundle.themes, bundle.nets, 120))
    assert not has_colour(pale, UP_COLOUR) and has_colour(pale, PALE_UP) and has_colour(pale, PALE_DOWN)
    bundle.themes[0].change_significant = True  # +12 points, tested and kept after Benjamini-Hochberg
    marked = image(waves_chart(bundle.themes, bundle.nets, 120))
    assert has_colour(marked, UP_COLOUR) and not has_colour(marked, DOWN_COLOUR)


def test_a_segment_of_many_values_keeps_the_chart_legible():
    region = {f"région {n:02d}": 10 + n for n in range(40)}  # 40 values: only the largest are drawn
    fonction = {"Direction": 40, "Terrain": 80}
    kept, left_out = _fitting({"région": region, "fonction": fonction})
    assert list(kept) == ["région"] and list(kept["région"]) == [f"région {n:02d}" for n in range(16, 40)]
    assert left_out == 16 + 2  # no room left for « fonction »
    kept, left_out = _fitting({"fonction": fonction, "région": region, "âge": {"jeunes": 50, "seniors": 70}})
    assert list(kept) == ["fonction", "région"] and len(kept["région"]) == MAX_HEAT_VALUES - 2 and left_out == 18 + 2
    bundle = survey_bundle()
    for theme in bundle.themes:
        theme.segments["région"] = {value: 0.5 for value in region}
        theme.segment_bases["région"] = region
    width = image(segments_chart(bundle.themes, bundle.nets, 120)).shape[1]
    assert width == round((3.6 + 1.05 * MAX_HEAT_VALUES) * DPI)  # 2 values of « fonction », 22 of « région »


def test_the_slide_copy_is_the_same_drawing_without_its_title():
    bundle = survey_bundle()
    pngs = RANKED.draw(bundle.themes, bundle.nets, 120)
    titled, untitled = image(pngs.titled), image(pngs.untitled)
    title_rows = range(round(TITLE_TOP * DPI), round(SUBTITLE_TOP * DPI))
    assert untitled.shape == (titled.shape[0] - len(title_rows), titled.shape[1], 3)
    assert np.array_equal(np.delete(titled, title_rows, axis=0), untitled)
    ink = titled.max(axis=-1) < 0.3  # the title is set in INK; the subtitle below it is grey, the bars blue
    assert ink[title_rows].sum() > 1000  # the title is in the rows left out, whole: white rows on both sides
    assert not ink[: title_rows.start].any() and not ink[title_rows.stop - 3 : title_rows.stop].any()


@pytest.fixture
def fresh_memory(monkeypatch):
    """Drawings kept by earlier tests of this process forgotten, as in a new process; renders counted."""
    monkeypatch.setattr(charts, "_DRAWN", charts.OrderedDict())
    rendered = []
    render = charts._render
    monkeypatch.setattr(charts, "_render", lambda figure: rendered.append(figure) or render(figure))
    return rendered


def test_a_rerun_of_unchanged_themes_draws_nothing_and_a_change_draws_anew(tmp_path, monkeypatch, fresh_memory):
    with settings.overridden(cache=tmp_path / "cache"):
        first = write_outputs(tmp_path / "one", survey_bundle())
        assert len(fresh_memory) == 2  # the ranked and segment charts, each rendered once for the files and the deck
        charts._DRAWN.clear()  # the next run is another process
        again = write_outputs(tmp_path / "two", survey_bundle())
        assert len(fresh_memory) == 2
        for name in ("chart-classement.png", "chart-segments.png"):
            assert again[name].read_bytes() == first[name].read_bytes()
        renamed = survey_bundle()
        renamed.themes[2].label = "Outils numériques"  # a reviewer's new label: both charts show it
        charts._DRAWN.clear()
        write_outputs(tmp_path / "three", renamed)
        assert len(fresh_memory) == 4
        monkeypatch.setattr(charts, "drawing_version", lambda: "matplotlib 99")  # another matplotlib draws anew
        charts._DRAWN.clear()
        write_outputs(tmp_path / "four", survey_bundle())
        assert len(fresh_memory) == 6


def test_a_page_reads_the_drawings_an_export_kept_and_keeps_none_of_its_own(tmp_path, fresh_memory):
    bundle = survey_bundle()
    with settings.overridden(cache=tmp_path / "cache"):
        drawn(bundle.themes, bundle.nets, 120)  # the report page of a corrected run: drawn, not kept on disk
        charts._DRAWN.clear()
        drawn(bundle.themes, bundle.nets, 120)
        assert len(fresh_memory) == 4
        write_outputs(tmp_path / "out", bundle)  # an export keeps them: those the page drew
        charts._DRAWN.clear()
        assert [png for _, png in drawn(bundle.themes, bundle.nets, 120)] == [
            (tmp_path / "out" / name).read_bytes() for name in ("chart-classement.png", "chart-segments.png")
        ]
        assert len(fresh_memory) == 4


@pytest.mark.parametrize("spoilt", ["a file where the folder should be", "not a database"])
def test_a_cache_that_cannot_be_used_does_not_fail_the_export(tmp_path, caplog, fresh_memory, spoilt):
    cache = tmp_path / "cache"
    if spoilt == "not a database":
        cache.mkdir()
        (cache / "cache.sqlite").write_bytes(b"ceci n'est pas une base" * 100)
    else:
        cache.write_text("")
    with settings.overridden(cache=cache), caplog.at_level(logging.WARNING, logger="pipeline.charts"):
        paths = write_outputs(tmp_path / "out", survey_bundle())
    assert image(paths["chart-classement.png"].read_bytes()).size and paths["report.pptx"].stat().st_size
    assert len(fresh_memory) == 2 and "chart cache not used" in caplog.text


LOADS_MATPLOTLIB = """
import pickle, sys
from pathlib import Path
from pipeline.exporters import write_outputs
bundle = pickle.loads(Path(sys.argv[1]).read_bytes())
write_outputs(Path(sys.argv[2]), bundle)
print("matplotlib" in sys.modules)
bundle.themes[0].label = "Manque de temps pour se former"  # not drawn yet
write_outputs(Path(sys.argv[2]), bundle)
print("matplotlib" in sys.modules)
"""


def test_a_run_whose_charts_are_cached_never_loads_matplotlib(tmp_path, fresh_memory):
    bundle = survey_bundle()
    (tmp_path / "bundle.pickle").write_bytes(pickle.dumps(bundle))
    with settings.overridden(cache=tmp_path / "cache"):
        write_outputs(tmp_path / "first", bundle)  # an earlier run of the same themes, in another process
    command = [sys.executable, "-c", LOADS_MATPLOTLIB, str(tmp_path / "bundle.pickle"), str(tmp_path / "out")]
    env = {**os.environ, "VERBATIMS_CACHE": str(tmp_path / "cache")}
    loaded = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout.split()
    assert loaded == ["False", "True"]  # the cached charts are read; a new label is drawn
