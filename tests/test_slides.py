"""report.pptx opened with python-pptx: a 16:9 deck of editable French text boxes, the charts as pictures."""

import re

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Inches
from test_charts import LONG_QUOTE, survey_bundle

from pipeline.exporters import downloads, write_outputs
from pipeline.slides import QUOTE_CHARS, net_quotes


def slides(tmp_path, bundle) -> list:
    """Each slide of the written deck as (its text boxes' texts, its pictures' alternative texts)."""
    deck = Presentation(write_outputs(tmp_path, bundle)["report.pptx"])
    assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))
    shown = []
    for slide in deck.slides:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        pictures = [s._element.nvPicPr.cNvPr.get("descr") for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        shown.append((texts, pictures))
    return shown


def test_the_deck_has_the_title_ranked_chart_leading_themes_and_segment_slides(tmp_path):
    deck = slides(tmp_path, survey_bundle())
    (title, no_picture), (ranked, ranked_pictures), *themes, (segments, segment_pictures) = deck
    assert title[0] == "Qu'est-ce qui freine la culture client ?" and not no_picture
    assert "Base : 120 répondants analysés sur 130 réponses reçues" in title[1]
    assert "Analyse r1 du 29/11/2026" in title[1]
    assert ranked == ["Classement des thèmes"] and ranked_pictures[0].startswith("Graphique : les thèmes classés")
    # « Autres » is no leading theme: the net « Moyens » and « Outils adaptés » each get a slide
    assert [texts[0] for texts, _ in themes] == ["1. Moyens", "2. Outils adaptés"]
    assert all(not pictures for _, pictures in themes)  # text, not pictures of text
    assert segments == ["Thèmes par segment"] and segment_pictures[0].startswith("Graphique : part de chaque thème")


def test_a_theme_slide_gives_its_share_interval_quotes_and_notable_segments(tmp_path):
    deck = slides(tmp_path, survey_bundle())
    moyens = "\n".join(deck[2][0])
    # 80 of 120: 67 %; Wilson, z = 1.96: centre (0.6667 + 0.0160) / 1.0320 = 0.6615, half-width 0.0832: 58 % to 74 %
    assert "67 % des répondants" in moyens and "Intervalle de confiance à 95 % : 58 % à 74 %" in moyens
    assert "80 répondants sur 120" in moyens and "Sous-thèmes : Manque de temps (50 %), Budget (25 %)" in moyens
    quotes = re.findall(r"«\s(.*?)\s»", moyens)
    # taken in turn from each code: the first of each, then the second of the first code, cut at a word
    assert quotes[:2] == ["Pas le temps de me former", "Aucun budget formation"] and len(quotes) >= 3
    assert quotes[2].endswith(" …") and len(quotes[2]) <= QUOTE_CHARS + 2 and LONG_QUOTE.startswith(quotes[2][:-2])
    assert "Segments notables" in moyens
    # every one of « Direction » against 20 of the 80 others (25 %)
    assert "Plus cité par « Direction » (fonction) : 100 % contre 25 % pour les autres répondants" in moyens
    assert "(sous-thème « Manque de temps »)" in moyens  # the net has two codes: the line says which
    outils = "\n".join(deck[3][0])
    assert "17 % des répondants" in outils and "Moins cité par « Direction » (fonction) : 0 % contre 25 %" in outils
    assert "Sous-thèmes" not in outils and len(re.findall(r"«\s", outils.split("Segments notables")[0])) == 3


def test_without_segments_there_is_no_segment_slide_nor_segment_lines(tmp_path):
    deck = slides(tmp_path, survey_bundle(segments=False))
    assert [texts[0] for texts, _ in deck[1:]] == ["Classement des thèmes", "1. Moyens", "2. Outils adaptés"]
    assert not any("Segments notables" in text for texts, _ in deck for text in texts)


def test_a_wave_gets_its_chart_slide_last(tmp_path):
    deck = slides(tmp_path, survey_bundle(changes={"temps": 4.2, "budget": -3.0}))
    assert deck[-1][0] == ["Évolution depuis la vague précédente"] and deck[-2][0] == ["Thèmes par segment"]


def test_quotes_come_in_turn_from_each_code():
    bundle = survey_bundle()
    budget, outils = bundle.themes[1:3]
    assert net_quotes([outils]) == outils.quotes[:3]
    assert net_quotes([budget, outils]) == [budget.quotes[0], outils.quotes[0], outils.quotes[1]]


def test_the_deck_is_offered_for_download():
    offered = downloads()["pptx"]
    assert offered.file_name == "report.pptx"
    assert offered.media_type == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
