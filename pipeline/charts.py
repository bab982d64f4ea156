"""Charts of a run as PNG bytes, drawn server-side so that one drawing serves the web report, the export folder
and the slide deck: the ranked nets and codes with their 95% intervals, the segment × theme table of shares with
its significant cells, and the changes since the previous wave.

Matplotlib's object API (``Figure`` and the Agg canvas), never pyplot: pyplot keeps global state, which a web
server drawing for several requests at once cannot share. Matplotlib is imported when a chart is drawn, not with
this module: a re-run whose charts are cached never loads it. A chart that does not apply to a run (no segments,
no previous wave) says so with ``applies`` and is not drawn at all.

Drawing is most of what writing a run's files costs, so each chart is drawn once per content: its layout is
computed from its texts' sizes (no layout engine, which draws a figure twice), the figure is rendered once and
gives both PNGs (with its title, and without it for a slide whose title box says it), and the PNGs are kept on
disk under a digest of everything they are drawn from (``pipeline.cache.BlobCache``), so that a re-run whose
themes did not change draws nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import math
import sqlite3
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from pipeline import messages, records, settings, significance
from pipeline.cache import BlobCache, content_key
from pipeline.messages import decimal, plural, say
from pipeline.records import OTHER_ID, IdeaUnit, Theme
from pipeline.significance import MIN_BASE, SegmentCell, segment_cells, wilson

if TYPE_CHECKING:  # annotations only: pipeline.nets imports scikit-learn, matplotlib is imported to draw
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pipeline.nets import Net

log = logging.getLogger(__name__)
T = TypeVar("T")

DPI = 120
WIDTH_IN = 10.0
ROW_IN = 0.34  # one bar, in inches: 41 px at DPI, room for a label on two lines
MAX_BARS = 32  # rows of the ranked chart; whole nets beyond it are left out (and counted in the subtitle)
MAX_HEAT_ROWS = 15  # codes of the segment table
MAX_HEAT_VALUES = 24  # its segment values, all columns together: about 28 inches wide, still legible on a slide
MIN_HEAT_VALUES = 4  # fewer values of a column than this would misrepresent it: the column is left out
LABEL_CHARS = 44  # a label's line, in characters, before it wraps
NET_COLOUR, CODE_COLOUR, ASIDE_COLOUR = "#2f5d8a", "#8fb3d9", "#b5b5b5"
UP_COLOUR, DOWN_COLOUR = "#2e7d32", "#c62828"
PALE_UP, PALE_DOWN = "#a5d6a7", "#ef9a9a"  # a change within sampling noise
UNTESTED_COLOUR = "#e4e4e4"
INK, MUTED = "#222222", "#555555"
KEPT_DRAWINGS = 8  # runs (or versions of a run) whose charts stay drawn in memory, a few hundred kB each
_DRAWN: OrderedDict[str, _Drawing] = OrderedDict()
_LOCK = threading.Lock()  # the web draws from several threads
SUBTITLE_CHARS_PER_IN = 12  # characters of the 9.5 pt subtitle per inch of width, before it wraps
# The layout, in inches from the figure's edges, from the sizes of its texts (matplotlib's defaults where not set)
TITLE_TOP, SUBTITLE_TOP = 0.12, 0.43  # the title's and the subtitle's top: a slide's copy leaves out the rows between
EDGE = 0.06  # between the outermost texts and the figure's edge
LINE_SPACING = 1.2  # a text line's height, in font sizes (matplotlib's)
TICK_PT = 3.5 + 3.5  # a tick's length and the gap to its label, in points
TICK_LABEL_PT = 10.0  # the numbers along an x axis
RIGHT_IN = 0.2  # room for half of the last x-axis number, beyond the plot
PANEL_GAP_IN = 0.2  # between two segment columns' panels
CACHE_NAMESPACE = "charts"  # its table in the cache file (settings.cache / "cache.sqlite")
PNG_COMPRESSION = 3  # zlib level: a third faster to encode than Pillow's 6, for 1 to 5% more bytes


def percent(share: float) -> str:
    """A share as French readers write it: "42 %"."""
    return f"{round(share * 100)} %"


def points(change: float) -> str:
    """A change in points, with its sign and a decimal comma: "+3,2 pt"."""
    return f"{decimal(change, '+.1f')} pt".replace("-", "−")  # the minus sign, not a hyphen


def wrap(text: str, width: int = LABEL_CHARS, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of ``width`` characters, cut at a word with "…" when longer."""
    text = " ".join(text.split())
    for limit in range(width * lines, 0, -4):  # wrapping wastes some of each line: shorten until it fits
        wrapped = textwrap.wrap(textwrap.shorten(text, limit, placeholder=" …"), width, break_on_hyphens=False)
        if len(wrapped) <= lines:
            return "\n".join(wrapped)
    return text[: width - 1] + "…"


@dataclass(frozen=True)
class Pngs:
    """One chart rendered once, as two files: with its title (the export folder, the web report) and without it
    (a slide, whose title box says it): the same pixels without the title's rows."""

    titled: bytes
    untitled: bytes


@dataclass(frozen=True)
class Chart:
    """One chart: its export file, the French text that stands for it where it cannot be seen, when it applies
    and how its figure is made from a run's ranked themes, nets and base (respondents with a kept idea)."""

    file_name: str
    key: str  # its texts' message ids start with this: "<key>.title", "<key>.alt"
    applies: Callable[[list[Theme]], bool]
    figure: Callable[[list[Theme], list[Net], int], Figure]  # (themes, nets, base): laid out, not yet rendered

    @property
    def title(self) -> str:
        return say(f"{self.key}.title")

    @property
    def alt(self) -> str:
        return say(f"{self.key}.alt")

    def draw(self, themes: list[Theme], nets: list[Net], base: int) -> Pngs:
        """Rendered now, whatever is cached (``drawn`` is what reads the caches)."""
        return _render(self.figure(themes, nets, base))


def respondent_base(units: list[IdeaUnit]) -> int:
    """The respondents with a kept idea unit: what every share is of."""
    return len({u.respondent_id for u in units})


def drawn(
    themes: list[Theme], nets: list[Net], base: int, titled: bool = True, keep: bool = False
) -> list[tuple[Chart, bytes]]:
    """Every chart that applies to the run, as PNG bytes, in the registry's order; ``titled=False``: the slides'
    copies, whose title the slide says. ``keep``: what is drawn is also kept on disk (see ``drawings``)."""
    return [(chart, pngs.titled if titled else pngs.untitled) for chart, pngs in drawings(themes, nets, base, keep)]


def drawings(themes: list[Theme], nets: list[Net], base: int, keep: bool = False) -> list[tuple[Chart, Pngs]]:
    """Every chart that applies to the run, drawn, from the cheapest place that has it.

    The report page asks for the same charts at every visit until a reviewer changes the run, and a re-run of
    unchanged themes asks for the ones drawn last time: so drawings are kept under a digest of everything they
    are drawn from, the last few in memory and, when ``keep`` (a run's files are written), on disk. The disk
    cache is not pruned (like the embedding cache beside it): a few hundred kB per export, not per page shown
    after each correction. Any change to a theme, a net or the base is another key, never a stale chart."""
    digest = hashlib.sha256(repr((themes, nets, base)).encode()).hexdigest()
    with _LOCK:
        drawing = _DRAWN.get(digest)
        if drawing is not None:
            _DRAWN.move_to_end(digest)
    if drawing is None:
        drawing = _stored_or_drawn(digest, [chart for chart in CHARTS if chart.applies(themes)], themes, nets, base)
        with _LOCK:
            _DRAWN[digest] = drawing
            while len(_DRAWN) > KEPT_DRAWINGS:
                _DRAWN.popitem(last=False)
    if keep and not drawing.on_disk:
        drawing.on_disk = _on_disk(lambda store: _put(store, digest, drawing.charts), False)
    return drawing.charts


@dataclass
class _Drawing:
    """A run's charts, drawn or read, and whether the disk cache has them."""

    charts: list[tuple[Chart, Pngs]]
    on_disk: bool


def _names(digest: str, chart: Chart) -> list[str]:
    """The disk cache's keys of a chart's two PNGs."""
    return [content_key(digest, chart.file_name, drawing_version(), copy) for copy in ("titled", "untitled")]


def _stored_or_drawn(digest: str, charts: list[Chart], themes: list[Theme], nets: list[Net], base: int) -> _Drawing:
    """The charts' PNGs from the disk cache, drawing those it does not have."""
    names = {chart: _names(digest, chart) for chart in charts}
    found = _on_disk(lambda store: store.get_many([name for pair in names.values() for name in pair]), {})
    drawn_or_read = []
    for chart, (titled, untitled) in names.items():
        read = titled in found and untitled in found
        drawn_or_read.append((chart, Pngs(found[titled], found[untitled]) if read else chart.draw(themes, nets, base)))
    return _Drawing(drawn_or_read, on_disk=len(found) == 2 * len(charts))


def _put(store: BlobCache, digest: str, charts: list[tuple[Chart, Pngs]]) -> bool:
    """The charts' PNGs into the disk cache; True once they are there."""
    pairs = ((_names(digest, chart), (pngs.titled, pngs.untitled)) for chart, pngs in charts)
    store.put_many([item for names, pngs in pairs for item in zip(names, pngs, strict=True)])
    return True


@cache
def drawing_version() -> str:
    """What a chart's pixels depend on beside its data: matplotlib (and the fonts it ships), and the code that
    draws and words it. A new version of either draws every chart anew rather than serve an old picture."""
    sources = (Path(module.__file__).read_bytes() for module in (messages, records, significance))
    code = hashlib.sha256(Path(__file__).read_bytes() + b"".join(sources)).hexdigest()
    return f"matplotlib {version('matplotlib')}, pillow {version('pillow')}, code {code}"


def _on_disk(action: Callable[[BlobCache], T], otherwise: T) -> T:
    """``action`` on the charts' disk cache, or ``otherwise`` when the cache cannot be used (a read-only or full
    folder, a locked file): the cache saves time, it never fails an export."""
    store = None
    try:
        store = BlobCache(settings.current().cache / "cache.sqlite", CACHE_NAMESPACE)
        return action(store)
    except (OSError, sqlite3.Error) as error:
        log.warning("chart cache not used (%s): charts are drawn", error)
        return otherwise
    finally:
        if store is not None:
            store.close()


def data_uri(png: bytes) -> str:
    """A PNG inside a page (``<img src=…>``): the standalone report is one file, with nothing to fetch."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # drawing only: see the module docstring
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def warm_up() -> None:
    """Matplotlib imported and its font read now, by drawing one word: a process that draws later (a run served
    by the resident engine) no longer pays 0.3 s for its first chart."""
    figure = _figure(0.5, 1.0)
    figure.text(0.1, 0.5, "é", fontsize=TICK_LABEL_PT)
    _render(figure)


def _render(figure: Figure) -> Pngs:
    """The figure rendered once, encoded twice: whole, and without the title's rows. RGB (the background is
    opaque, an alpha channel adds bytes, not information), and no "Software" entry, so that one drawing gives the
    same bytes on every machine."""
    from PIL import Image  # installed with matplotlib

    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3]
    title_rows = np.arange(round(TITLE_TOP * DPI), round(SUBTITLE_TOP * DPI))

    def png(rows: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        image = Image.fromarray(np.ascontiguousarray(rows))
        image.save(buffer, format="png", dpi=(DPI, DPI), compress_level=PNG_COMPRESSION)
        return buffer.getvalue()

    return Pngs(png(pixels), png(np.delete(pixels, title_rows, axis=0)))


def _titles(figure: Figure, title: str, subtitle: str) -> float:
    """Title and subtitle flush left above the plot; the band they take, in inches, for the plot to start below.
    Nothing else is drawn between the title's top and the subtitle's: a slide's copy leaves those rows out."""
    height = figure.get_figheight()
    lines = textwrap.wrap(subtitle, int(figure.get_figwidth() * SUBTITLE_CHARS_PER_IN), break_on_hyphens=False)
    figure.text(0.012, 1 - TITLE_TOP / height, title, va="top", fontsize=14, fontweight="bold", color=INK)
    figure.text(0.012, 1 - SUBTITLE_TOP / height, "\n".join(lines), va="top", fontsize=9.5, color=MUTED, parse_math=False)
    return SUBTITLE_TOP + 0.29 + 0.17 * (len(lines) - 1)


def _width_in(figure: Figure, text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` (its longest line) at ``size`` points, in inches: the font's metrics, nothing drawn."""
    from matplotlib.font_manager import FontProperties

    font = FontProperties(size=size, weight="bold" if bold else "normal")
    renderer = figure.canvas.get_renderer()
    return max(renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in text.split("\n")) / DPI


def _height_in(text: str, size: float) -> float:
    """Height of ``text``'s lines at ``size`` points, in inches, as matplotlib spaces them."""
    return (text.count("\n") + 1) * LINE_SPACING * size / 72


def _place(figure: Figure, left: float, top: float, bottom: float, right: float = EDGE, gap: float = 0.0) -> None:
    """The plot (its panels ``gap`` inches apart) within margins in inches."""
    width, height = figure.get_figwidth(), figure.get_figheight()
    panels = len(figure.axes)
    mean = (width - left - right - gap * (panels - 1)) / panels  # matplotlib spaces panels in mean panel widths
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, wspace=gap / mean
    )


def _bar_layout(figure: Figure, labels: list[str], bold: list[bool], band: float) -> None:
    """A bar chart's margins: its labels on the left, the numbers and the axis' name (9 pt) below."""
    left = max((_width_in(figure, label, 9, b) for label, b in zip(labels, bold, strict=True)), default=0.0)
    below = (TICK_PT + LINE_SPACING * TICK_LABEL_PT + 4 + LINE_SPACING * 9) / 72  # the axis' name 4 pt under
    _place(figure, left + TICK_PT / 72 + EDGE, band + EDGE, below + EDGE, right=RIGHT_IN)


@dataclass(frozen=True)
class _Bar:
    label: str
    hits: int
    share: float
    colour: str
    bold: bool = False


def _bars(themes: list[Theme], nets: list[Net]) -> tuple[list[_Bar], int]:
    """The ranked chart's rows: each net, then its codes when it has several (numbered 1.1, 1.2 as in the
    report); whole nets only, up to MAX_BARS rows. Also the number of nets shown."""
    codes = {t.theme_id: t for t in themes}
    bars: list[_Bar] = []
    shown = 0
    for net in nets:
        inside = [codes[c] for c in net.code_ids if c in codes]
        aside = net.net_id == OTHER_ID or all(t.mixed for t in inside)
        rows = [_Bar(f"{net.rank}. {net.label}", net.n_respondents, net.share, ASIDE_COLOUR if aside else NET_COLOUR)]
        if len(inside) > 1:
            rows[0] = _Bar(rows[0].label, rows[0].hits, rows[0].share, rows[0].colour, bold=True)
            rows += [
                _Bar(f"{net.rank}.{n}. {t.label}", t.n_respondents, t.share, ASIDE_COLOUR if aside else CODE_COLOUR)
                for n, t in enumerate(inside, start=1)
            ]
        if bars and len(bars) + len(rows) > MAX_BARS:
            break
        bars += rows
        shown += 1
    return bars, shown


def ranked_figure(themes: list[Theme], nets: list[Net], base: int) -> Figure:
    """Nets ranked, largest on top, each followed by its codes: share bars with 95% Wilson whiskers."""
    from matplotlib.ticker import FuncFormatter  # drawing only: see the module docstring

    bars, shown = _bars(themes, nets)
    figure = _figure(1.3 + ROW_IN * len(bars))
    axes = figure.add_subplot()
    rows = range(len(bars))
    shares = [b.share for b in bars]
    intervals = [wilson(b.hits, base) if base else (b.share, b.share) for b in bars]
    axes.barh(rows, shares, color=[b.colour for b in bars], height=0.72)
    below = [max(s - low, 0.0) for s, (low, _) in zip(shares, intervals, strict=True)]
    above = [max(high - s, 0.0) for s, (_, high) in zip(shares, intervals, strict=True)]
    axes.errorbar(shares, rows, xerr=[below, above], fmt="none", ecolor=INK, elinewidth=1, capsize=3)
    for row, (share, (_, high)) in enumerate(zip(shares, intervals, strict=True)):
        axes.text(high + 0.008, row, percent(share), va="center", fontsize=9, color=INK)
    labels = [wrap(b.label) for b in bars]
    # parse_math=False wherever a label is the analyst's or the data's: "$" would start matplotlib's TeX-like math
    axes.set_yticks(list(rows), labels, fontsize=9, parse_math=False)
    for tick, bar in zip(axes.get_yticklabels(), bars, strict=True):
        tick.set_fontweight("bold" if bar.bold else "normal")
    axes.invert_yaxis()  # rank 1 on top
    axes.set_xlim(0, min(1.0, max((high for _, high in intervals), default=0.1) + 0.08))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: percent(value)))
    axes.set_xlabel(say("chart.share_axis"), fontsize=9, color=MUTED)
    axes.spines[["top", "right"]].set_visible(False)
    subtitle = say("chart.ranked.subtitle", base=plural(base, "respondent"))
    if shown < len(nets):
        subtitle += f" ({say('chart.cut', shown=shown, total=len(nets))})"
    band = _titles(figure, say("chart.ranked.title"), subtitle)
    _bar_layout(figure, labels, [b.bold for b in bars], band)
    return figure


def has_segments(themes: list[Theme]) -> bool:
    return any(t.segments for t in themes)


def segments_figure(themes: list[Theme], nets: list[Net], base: int) -> Figure:
    """Codes × segment values: each cell the code's share of that value's respondents; a cell significantly
    above or below the rest (after Benjamini-Hochberg over the whole table) framed and marked ▲ or ▼; a cell
    too small to test in grey. One panel per segment column, its values headed with their base."""
    cells = {(c.theme_id, c.segment, c.value): c for c in segment_cells(themes)}
    segmented = sorted((t for t in themes if t.segments), key=lambda t: t.rank)
    shown = segmented[:MAX_HEAT_ROWS]
    columns, left_out = _fitting(_segment_values(shown))
    count = sum(len(values) for values in columns.values())
    figure = _figure(2.2 + 0.42 * len(shown), 3.6 + 1.05 * count)
    panels = figure.subplots(1, len(columns), sharey=True, width_ratios=[len(v) for v in columns.values()], squeeze=False)
    top = max((c.share for c in cells.values()), default=1.0) or 1.0
    headings = {column: [f"{wrap(v, 16)}\n(n={n})" for v, n in values.items()] for column, values in columns.items()}
    heading_in = max((_height_in(h, 8.5) for hs in headings.values() for h in hs), default=0.0)
    for axes, (column, values) in zip(panels[0], columns.items(), strict=True):
        _heat_panel(axes, column, values, headings[column], shown, cells, top, heading_in)
    labels = [wrap(t.label, 36) for t in shown]
    panels[0][0].set_yticks(range(len(shown)), labels, fontsize=9, parse_math=False)
    legend = textwrap.fill(say("chart.segments.legend", min_base=MIN_BASE), 40 + 17 * count)
    figure.supxlabel(legend, y=EDGE / figure.get_figheight(), fontsize=8, color=MUTED)
    subtitle = say("chart.segments.subtitle")
    if len(shown) < len(segmented):
        subtitle += f" ({say('chart.cut', shown=len(shown), total=len(segmented))})"
    if left_out:
        subtitle += ". " + say("chart.segments.more", n=left_out)
    band = _titles(figure, say("chart.segments.title"), subtitle)
    left = max((_width_in(figure, label, 9) for label in labels), default=0.0) + 3.5 / 72 + EDGE
    above = band + heading_in + (3.5 + 6 + LINE_SPACING * 10) / 72  # the values' headings, then the column's name
    below = EDGE + _height_in(legend, 8) + 0.08
    _place(figure, left, above, below, gap=PANEL_GAP_IN)
    return figure


def _segment_values(themes: list[Theme]) -> dict[str, dict[str, int]]:
    """Each segment column's values, in the order the themes give them, with each value's base."""
    columns: dict[str, dict[str, int]] = {}
    for theme in themes:
        for column, shares in theme.segments.items():
            bases = theme.segment_bases.get(column, {})
            values = columns.setdefault(column, {})
            for value in shares:
                values[value] = max(values.get(value, 0), bases.get(value, 0))
    return columns


def _fitting(columns: dict[str, dict[str, int]]) -> tuple[dict[str, dict[str, int]], int]:
    """The segment columns that fit MAX_HEAT_VALUES values, in order; a column with more values than the room left
    keeps its largest ones (when that is a few), since a column may have up to ``ingest.MAX_SEGMENT_VALUES``.
    Also how many values are left out."""
    kept: dict[str, dict[str, int]] = {}
    left_out = 0
    for column, values in columns.items():
        room = MAX_HEAT_VALUES - sum(len(v) for v in kept.values())
        if len(values) <= room:
            kept[column] = values
        elif room >= MIN_HEAT_VALUES:
            largest = {value for value, _ in sorted(values.items(), key=lambda item: -item[1])[:room]}
            kept[column] = {value: n for value, n in values.items() if value in largest}  # in their order
            left_out += len(values) - room
        else:
            left_out += len(values)
    return kept, left_out


def _heat_panel(
    axes: Axes,
    column: str,
    values: dict[str, int],
    headings: list[str],
    themes: list[Theme],
    cells: dict[tuple, SegmentCell],
    top: float,
    heading_in: float,
) -> None:
    grid = [[_share_in(cells, t, column, v) for v in values] for t in themes]
    axes.imshow(grid, cmap="Blues", vmin=0.0, vmax=top * 1.25, aspect="auto")  # headroom: the darkest stays readable
    for row, theme in enumerate(themes):
        for col, value in enumerate(values):
            cell = cells.get((theme.theme_id, column, value))
            if cell is None:
                continue
            _heat_cell(axes, row, col, cell, top)
    axes.set_xticks(range(len(values)), headings, fontsize=8.5, parse_math=False)
    axes.xaxis.tick_top()
    axes.tick_params(length=0)
    # placed above the headings here: left to matplotlib, it would measure every heading at each drawing
    title = say("chart.segments.column", column=column)
    pad = 3.5 + heading_in * 72 + 6
    axes.set_title(title, y=1.0, pad=pad, fontsize=10, fontweight="bold", color=INK, parse_math=False)
    for spine in axes.spines.values():
        spine.set_visible(False)


def _share_in(cells: dict[tuple, SegmentCell], theme: Theme, column: str, value: str) -> float:
    cell = cells.get((theme.theme_id, column, value))
    return math.nan if cell is None else cell.share


def _heat_cell(axes: Axes, row: int, col: int, cell: SegmentCell, top: float) -> None:
    from matplotlib.patches import Rectangle  # drawing only: see the module docstring

    text = percent(cell.share)
    if not cell.tested:
        axes.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=UNTESTED_COLOUR, edgecolor="white"))
        axes.text(col, row, text, ha="center", va="center", fontsize=8.5, color="#8a8a8a", style="italic")
        return
    dark = cell.share > top * 0.7
    if cell.significant:
        up = cell.direction == "above"
        text += " ▲" if up else " ▼"
        edge = UP_COLOUR if up else DOWN_COLOUR
        axes.add_patch(Rectangle((col - 0.45, row - 0.42), 0.9, 0.84, fill=False, edgecolor=edge, linewidth=2.2))
    weight = "bold" if cell.significant else "normal"
    axes.text(col, row, text, ha="center", va="center", fontsize=9, fontweight=weight, color="white" if dark else INK)


def has_changes(themes: list[Theme]) -> bool:
    return any(t.change_pts is not None for t in themes)


def waves_figure(themes: list[Theme], nets: list[Net], base: int) -> Figure:
    """Each code's change in points since the previous wave, largest rise on top; new codes have none. A change
    beyond sampling noise (``Theme.change_significant``: z-test, Benjamini-Hochberg over the wave) is dark and
    marked ▲ or ▼; the others are pale, as a survey table would not call them changes."""
    from matplotlib.ticker import FuncFormatter  # drawing only: see the module docstring

    changed = sorted((t for t in themes if t.change_pts is not None), key=lambda t: (-t.change_pts, t.rank))
    changed = changed[:MAX_BARS]
    figure = _figure(1.3 + ROW_IN * len(changed))
    axes = figure.add_subplot()
    rows = range(len(changed))
    changes = [t.change_pts for t in changed]
    colours = [(UP_COLOUR, PALE_UP) if c >= 0 else (DOWN_COLOUR, PALE_DOWN) for c in changes]
    tint = [dark if t.change_significant else pale for t, (dark, pale) in zip(changed, colours, strict=True)]
    axes.barh(rows, changes, color=tint, height=0.72)
    reach = max((abs(c) for c in changes), default=1.0) or 1.0
    for row, theme in enumerate(changed):
        change = theme.change_pts
        text = points(change) + ((" ▲" if change > 0 else " ▼") if theme.change_significant else "")
        beyond = reach * 0.02 if change >= 0 else -reach * 0.02
        weight = "bold" if theme.change_significant else "normal"
        axes.text(
            change + beyond, row, text, va="center", ha="left" if change >= 0 else "right", fontsize=9, fontweight=weight
        )
    axes.axvline(0, color=INK, linewidth=0.8)
    labels = [wrap(t.label) for t in changed]
    axes.set_yticks(list(rows), labels, fontsize=9, parse_math=False)
    axes.invert_yaxis()
    axes.set_xlim(-reach * 1.3, reach * 1.3)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:+.0f} pt".replace("-", "−") if value else "0"))
    axes.set_xlabel(say("chart.waves.axis"), fontsize=9, color=MUTED)
    axes.spines[["top", "right"]].set_visible(False)
    band = _titles(figure, say("chart.waves.title"), say("chart.waves.subtitle"))
    _bar_layout(figure, labels, [False] * len(labels), band)
    return figure


CHARTS: tuple[Chart, ...] = (
    Chart("chart-classement.png", "chart.ranked", lambda themes: bool(themes), ranked_figure),
    Chart("chart-segments.png", "chart.segments", has_segments, segments_figure),
    Chart("chart-vagues.png", "chart.waves", has_changes, waves_figure),
)
