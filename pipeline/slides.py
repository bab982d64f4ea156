"""``report.pptx``: the run as a slide deck a report writer edits and presents, in French.

A title slide (the question and the base), the ranked chart, one slide per leading theme (its share and 95%
interval, three quotes, the segments where it stands out), then the segment and wave charts when the run has
them. Every text is an editable text box (only the charts are pictures), on a 16:9 page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.lang import MSO_LANGUAGE_ID
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Emu, Inches, Pt

from pipeline.charts import Chart, drawn, percent
from pipeline.manifest import Manifest
from pipeline.messages import plural, plural_word, say
from pipeline.nets import Net
from pipeline.rank import trim_quote
from pipeline.records import OTHER_ID, Theme
from pipeline.significance import SegmentCell, segment_cells, wilson

WIDE, HIGH = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.6)
BLANK_LAYOUT = 6  # the default template's "Blank": no placeholder, every box is ours
TOP_THEMES = 5
QUOTES = 3
QUOTE_CHARS = 200  # three quotes and the segments fit one slide at 16 pt
NOTABLE = 4  # significant segment cells shown per theme, the strongest first
INK, MUTED, ACCENT = RGBColor(0x22, 0x22, 0x22), RGBColor(0x55, 0x55, 0x55), RGBColor(0x2F, 0x5D, 0x8A)


@dataclass(frozen=True)
class Run:
    """A run's text: each paragraph of a text box is a list of these, all in one style per run."""

    text: str
    size: int = 18
    bold: bool = False
    italic: bool = False
    colour: RGBColor = INK


def write_deck(path: Path, themes: list[Theme], nets: list[Net], manifest: Manifest, base: int) -> None:
    deck(themes, nets, manifest, base).save(path)


def deck(themes: list[Theme], nets: list[Net], manifest: Manifest, base: int):
    """The presentation: title, ranked chart, leading themes, then the other charts that apply. ``base``: the
    respondents the shares are of (those with a kept idea unit)."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = WIDE, HIGH
    presentation.core_properties.title = manifest.title
    presentation.core_properties.language = "fr-FR"
    charts = drawn(themes, nets, base, titled=False)  # each slide's title box says it
    _title_slide(presentation, manifest)
    for chart, png in charts[:1]:  # the ranked chart comes first; the others follow the themes
        _chart_slide(presentation, chart, png)
    cells = segment_cells(themes)
    codes = {t.theme_id: t for t in themes}
    for net in leading(nets, codes):
        _theme_slide(presentation, net, [codes[c] for c in net.code_ids], cells, base)
    for chart, png in charts[1:]:
        _chart_slide(presentation, chart, png)
    return presentation


def leading(nets: list[Net], codes: dict[str, Theme]) -> list[Net]:
    """The first TOP_THEMES nets worth a slide: not "Autres", not a net of incoherent codes only."""
    worth = [n for n in nets if n.net_id != OTHER_ID and not all(codes[c].mixed for c in n.code_ids)]
    return worth[:TOP_THEMES]


def _slide(presentation):
    return presentation.slides.add_slide(presentation.slide_layouts[BLANK_LAYOUT])


def _text_box(slide, top: Emu, height: Emu, paragraphs: list[list[Run]], left: Emu = MARGIN) -> None:
    """A text box across the slide; French, so that spelling is checked in French when it is edited."""
    frame = slide.shapes.add_textbox(left, top, WIDE - left - MARGIN, height).text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # a long label or quote shrinks rather than overlaps the next box
    for n, runs in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(6)
        for part in runs:
            run = paragraph.add_run()
            run.text = part.text
            font = run.font
            font.size, font.bold, font.italic = Pt(part.size), part.bold, part.italic
            font.color.rgb = part.colour
            font.language_id = MSO_LANGUAGE_ID.FRENCH


def _title_slide(presentation, manifest: Manifest) -> None:
    counts = manifest.counts
    base = say(
        "slides.base",
        respondents=plural(counts.respondents_kept, "respondent"),
        analysed=plural_word(counts.respondents_kept, "analysed_m"),
        answers=plural(counts.rows_in, "answer"),
        received=plural_word(counts.rows_in, "received"),
    )
    day = datetime.fromisoformat(manifest.created_at).strftime("%d/%m/%Y")
    slide = _slide(presentation)
    _text_box(slide, Inches(2.0), Inches(2.2), [[Run(manifest.title, 36, bold=True)]])
    _text_box(
        slide,
        Inches(4.4),
        Inches(1.6),
        [[Run(base, 22, colour=ACCENT)], [Run(say("slides.run", run_id=manifest.run_id, date=day), 14, colour=MUTED)]],
    )


def _chart_slide(presentation, chart: Chart, png: bytes) -> None:
    slide = _slide(presentation)
    _text_box(slide, Inches(0.35), Inches(0.8), [[Run(chart.title, 28, bold=True)]])
    top, room_wide, room_high = Inches(1.25), WIDE - 2 * MARGIN, HIGH - Inches(1.25) - Inches(0.3)
    picture = slide.shapes.add_picture(io.BytesIO(png), MARGIN, top)
    scale = min(room_wide / picture.width, room_high / picture.height)
    picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
    picture.left = int((WIDE - picture.width) / 2)
    # the text that stands for the chart where it is not seen (screen readers, an image that fails to load)
    picture._element.nvPicPr.cNvPr.set("descr", chart.alt)


def _theme_slide(presentation, net: Net, codes: list[Theme], cells: list[SegmentCell], base: int) -> None:
    low, high = wilson(net.n_respondents, base) if base else (net.share, net.share)
    interval = say(
        "slides.interval",
        low=percent(low),
        high=percent(high),
        respondents=plural(net.n_respondents, "respondent"),
        base=base,
    )
    figures = [[Run(percent(net.share), 48, bold=True, colour=ACCENT), Run(" " + say("slides.share"), 20)]]
    figures.append([Run(interval, 14, colour=MUTED)])
    if len(codes) > 1:
        shares = ", ".join(f"{t.label} ({percent(t.share)})" for t in codes)
        figures.append([Run(say("slides.subthemes", codes=shares), 14, colour=MUTED)])
    slide = _slide(presentation)
    _text_box(slide, Inches(0.35), Inches(0.8), [[Run(f"{net.rank}. {net.label}", 28, bold=True)]])
    _text_box(slide, Inches(1.15), Inches(1.6), figures)
    # non-breaking spaces inside « », as French sets them: a closing » never starts a line alone
    quotes = [[Run(f"«\u00a0{q}\u00a0»", 16, italic=True)] for q in net_quotes(codes)]
    _text_box(slide, Inches(2.85), Inches(2.5), quotes)
    notes = notable(codes, cells)
    if any(t.segments for t in codes):
        lines = [[Run(line, 14)] for line in notes] or [[Run(say("slides.no_difference"), 14, colour=MUTED)]]
        _text_box(slide, Inches(5.4), Inches(1.8), [[Run(say("slides.segments"), 16, bold=True)], *lines])


def net_quotes(codes: list[Theme]) -> list[str]:
    """Up to QUOTES quotes, taken in turn from each code (a net's quotes speak for all its codes), each cut at a
    word when long."""
    taken = [q for turn in range(QUOTES) for t in codes if turn < len(t.quotes) for q in [t.quotes[turn]]]
    return [trim_quote(q, QUOTE_CHARS) for q in taken[:QUOTES]]


def notable(codes: list[Theme], cells: list[SegmentCell]) -> list[str]:
    """The net's codes' significant segment cells in words, the smallest corrected p-value first:
    "Plus cité par « Direction » (fonction) : 42 % contre 25 % pour les autres répondants"."""
    of = {t.theme_id: t for t in codes}
    found = sorted((c for c in cells if c.theme_id in of and c.significant), key=lambda c: c.p_adjusted)
    lines = []
    for cell in found[:NOTABLE]:
        theme = of[cell.theme_id]
        # the rest of the column: every respondent is in one of its values ("(vide)" for none); tested, so not empty
        rest_base = sum(theme.segment_bases[cell.segment].values()) - cell.base
        rest = (theme.n_respondents - round(cell.share * cell.base)) / rest_base
        key = "slides.above" if cell.direction == "above" else "slides.below"
        line = say(key, value=cell.value, column=cell.segment, share=percent(cell.share), rest=percent(rest))
        lines.append(say("slides.in_code", cell=line, code=theme.label) if len(codes) > 1 else line)
    return lines
