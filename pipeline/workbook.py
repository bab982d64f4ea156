"""themes.xlsx, the workbook people open: a sheet per table with French headers, shares as percentages (fractions
in the cells, so that they sum and chart as numbers), columns fitted to their content, long texts wrapped, the
header frozen and filtered on every sheet, significant cells coloured with a sheet that says how to read them, and
a native bar chart of the nets' shares that Excel or LibreOffice can restyle.

The CSV, JSON and Parquet files keep machine column names; only this file speaks to people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from xlsxwriter.chart import Chart
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from pipeline.bundle import Bundle
from pipeline.export import safe_frame
from pipeline.messages import CELLS, header, say
from pipeline.nets import Net
from pipeline.records import Theme
from pipeline.significance import MIN_BASE, wilson

# Columns by how their numbers read: shares and intervals are fractions shown as percentages, counts are integers.
PERCENT_COLUMNS = frozenset({"share", "net_share", "ci_low", "ci_high", "previous_share"})
COUNT_COLUMNS = frozenset(
    {"rank", "net_rank", "n_respondents", "net_respondents", "n_units", "base", "previous_base", "unit_no", "n_codes"}
)
NUMBER_FORMATS = {
    **dict.fromkeys(PERCENT_COLUMNS, "0.0 %"),
    **dict.fromkeys(COUNT_COLUMNS, "0"),
    **dict.fromkeys(["p_value", "p_adjusted", "change_p"], "0.0000"),
    "change_pts": "+0.0;-0.0;0.0",
    "coherence": "0.00",
    "score": "0.00",
}
MAX_WIDTH = 60  # characters: a longer column (verbatims, quotes) is wrapped at this width instead
NUMBER_WIDTH = 10  # "100,0 %", "0,0001", "+12,3" and a filter button
# Fills as spreadsheets' own "good" / "neutral" / greyed-out presets, so that they read as usual
ABOVE = {"bg_color": "#C6EFCE", "font_color": "#006100"}
BELOW = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}
SMALL_BASE = {"bg_color": "#EDEDED", "font_color": "#808080", "italic": True}
# verbatims stay text, whatever they start with; the parts are zipped from memory (not staged as temporary files)
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
# Above this many idea rows the cells go to temporary files a row at a time (xlsxwriter's constant_memory, strings
# inline): holding every cell of a 100,000-answer run's 480,000 idea rows put its export about 1 GiB up, the run
# over its 4 GiB budget (4.27 GiB, bench/scale.py). At 42,230 rows: 24 MB held instead of 102 MB, about as fast,
# a file 43% bigger, hence not for every run.
CONSTANT_MEMORY_ROWS = 100_000
LARGE_OPTIONS = {**XLSX_OPTIONS, "in_memory": False, "constant_memory": True}

THEMES, NETS, CHART, SEGMENTS, IDEAS, EXCLUDED, LEGEND = (
    "Thèmes",
    "Regroupements",
    "Graphique",
    "Segments",
    "Idées",
    "Écartées",
    "Lecture",
)


@dataclass(frozen=True)
class Mark:
    """A conditional format: the cells of ``column`` (or every column of the row) are shown with ``style`` when
    ``formula`` (Excel, written for the first data row) holds."""

    formula: str
    style: dict
    column: str | None = None


def write_workbook(path: Path, bundle: Bundle) -> None:
    """Every table of the bundle, one sheet each, then the chart and the legend."""
    nets = nets_frame(bundle.nets, bundle.themes, bundle.manifest.counts.respondents_kept)
    sheets = {
        THEMES: bundle.themes_table,
        NETS: nets,
        SEGMENTS: bundle.segments_table,
        IDEAS: bundle.assignments_table,
        EXCLUDED: bundle.excluded_table,
    }
    options = LARGE_OPTIONS if len(bundle.assignments_table) > CONSTANT_MEMORY_ROWS else XLSX_OPTIONS
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        for name, table in sheets.items():
            _write_cells(writer.book.add_worksheet(name), french_sheet(table))
            _lay_out(writer, name, table)
        _mark(writer, THEMES, bundle.themes_table, _change_marks(bundle.themes_table))
        _mark(writer, SEGMENTS, bundle.segments_table, _segment_marks(bundle.segments_table))
        _charts(writer, nets, bundle.themes_table)
        _legend(writer, "change_significant" in bundle.themes_table.columns)


def french_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """A table as people read it in the XLSX: French headers, and French values where the machine's are English."""
    shown = table.assign(**{c: table[c].replace(v) for c, v in CELLS.items() if c in table.columns})
    return shown.rename(columns=header)


def _write_cells(sheet: Worksheet, table: pd.DataFrame) -> None:
    """The header and every cell by its type, a row at a time (``LARGE_OPTIONS`` writes each row as the next one
    starts), as ``DataFrame.to_excel`` writes them (missing values left empty), without the cell object and style
    lookup it makes per value: a 10,000-answer run's workbook (18,708 rows on the ideas' sheet) took 2.3 s, 1.35 s
    this way."""
    sheet.write_row(0, 0, [str(c) for c in table.columns])
    for row, values in enumerate(zip(*(column.tolist() for _, column in table.items()), strict=True), start=1):
        for col, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(row, col, value)
            elif isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, int | float) and math.isfinite(value):
                sheet.write_number(row, col, value)
            elif not pd.isna(value):  # an infinite share or anything else: as its text
                sheet.write_string(row, col, str(value))


def nets_frame(nets: list[Net], themes: list[Theme], base: int) -> pd.DataFrame:
    """One row per net, ranked: its respondents counted once, its share with a 95% Wilson interval on the run's
    analysed respondents, and the codes it rolls up."""
    label_of = {t.theme_id: t.label for t in themes}
    rows = []
    for net in nets:
        # no interval rather than a wrong one when the counts do not add up (records built by hand)
        known = base > 0 and net.n_respondents <= base
        low, high = wilson(net.n_respondents, base) if known else (float("nan"), float("nan"))
        rows.append(
            {
                "rank": net.rank,
                "net_id": net.net_id,
                "net_label": net.label,
                "n_respondents": net.n_respondents,
                "share": round(net.share, 4),
                "ci_low": round(low, 4),
                "ci_high": round(high, 4),
                "n_codes": len(net.code_ids),
                "codes": "; ".join(label_of.get(code, code) for code in net.code_ids),
            }
        )
    columns = ["rank", "net_id", "net_label", "n_respondents", "share", "ci_low", "ci_high", "n_codes", "codes"]
    return safe_frame(pd.DataFrame(rows, columns=columns))


def _lay_out(writer: pd.ExcelWriter, name: str, table: pd.DataFrame) -> None:
    """Number formats, widths fitted to the content (wrapped past ``MAX_WIDTH``), frozen header, filter."""
    sheet, book = writer.sheets[name], writer.book
    for i, column in enumerate(table.columns):
        width = _width(header(column), table[column])
        style = {"num_format": NUMBER_FORMATS[column]} if column in NUMBER_FORMATS else {}
        if width >= MAX_WIDTH:
            style.update(text_wrap=True, valign="top")
        sheet.set_column(i, i, width, book.add_format(style) if style else None)
    sheet.freeze_panes(1, 0)
    sheet.repeat_rows(0)  # printed, every page keeps the header
    sheet.set_landscape()
    if len(table.columns):
        sheet.autofilter(0, 0, len(table), len(table.columns) - 1)


def _width(title: str, values: pd.Series) -> int:
    """Characters: the header's or the longest value's, numbers at a fixed width, capped at ``MAX_WIDTH``."""
    longest = NUMBER_WIDTH if pd.api.types.is_numeric_dtype(values) else values.astype(str).str.len().max()
    return min(MAX_WIDTH, max(len(title), 0 if pd.isna(longest) else int(longest)) + 2)


def _segment_marks(table: pd.DataFrame) -> list[Mark]:
    """Rows of a significant cell, above or below the rest; rows not tested (a base, or the rest's, under the
    minimum) greyed, as report.md sets them in italics."""
    tested, significant, direction = (_letter(table, c) for c in ("tested", "significant", "direction"))
    above, below = CELLS["direction"]["above"], CELLS["direction"]["below"]
    return [
        Mark(f"=NOT(${tested}2)", SMALL_BASE),
        Mark(f'=AND(${significant}2,${direction}2="{above}")', ABOVE),
        Mark(f'=AND(${significant}2,${direction}2="{below}")', BELOW),
    ]


def _change_marks(table: pd.DataFrame) -> list[Mark]:
    """A classified wave's change column: a significant rise in one fill, a significant fall in the other."""
    if "change_significant" not in table.columns:
        return []
    change, significant = _letter(table, "change_pts"), _letter(table, "change_significant")
    return [
        Mark(f"=AND(${significant}2,${change}2>0)", ABOVE, "change_pts"),
        Mark(f"=AND(${significant}2,${change}2<0)", BELOW, "change_pts"),
    ]


def _letter(table: pd.DataFrame, column: str) -> str:
    return xl_col_to_name(table.columns.get_loc(column))


def _mark(writer: pd.ExcelWriter, name: str, table: pd.DataFrame, marks: list[Mark]) -> None:
    if table.empty:
        return
    sheet, last_row = writer.sheets[name], len(table)
    for mark in marks:
        first, last = (table.columns.get_loc(mark.column),) * 2 if mark.column else (0, len(table.columns) - 1)
        style = writer.book.add_format(mark.style)
        sheet.conditional_format(1, first, last_row, last, {"type": "formula", "criteria": mark.formula, "format": style})


def _charts(writer: pd.ExcelWriter, nets: pd.DataFrame, themes: pd.DataFrame) -> None:
    """On a sheet of their own, drawn from the tables' cells: the nets' shares, and for a classified wave each
    theme's share in the previous wave and in this one."""
    sheet = writer.book.add_worksheet(CHART)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # printed, one page wide
    if nets.empty:
        return
    ranked = _bar_chart(writer, say("workbook.chart"), NETS, nets, "net_label", {header("share"): "share"})
    sheet.insert_chart("A1", ranked)
    if "previous_share" in themes.columns:
        series = {say("workbook.previous_wave"): "previous_share", say("workbook.this_wave"): "share"}
        waves = _bar_chart(writer, say("workbook.waves_chart"), THEMES, themes, "label", series)
        sheet.insert_chart(ranked.height // 20 + 2, 0, waves)  # below the first, rows being 20 pixels high


def _bar_chart(
    writer: pd.ExcelWriter, title: str, sheet: str, table: pd.DataFrame, label: str, series: dict[str, str]
) -> Chart:
    """Horizontal bars of ``table``'s share columns (``series``: name → column) by ``label``, rank 1 on top."""
    chart = writer.book.add_chart({"type": "bar"})
    rows, categories = len(table), table.columns.get_loc(label)
    for name, column in series.items():
        values = table.columns.get_loc(column)
        chart.add_series(
            {
                "name": name,
                "categories": [sheet, 1, categories, rows, categories],
                "values": [sheet, 1, values, rows, values],
                "data_labels": {"value": True, "num_format": "0 %"},
            }
        )
    chart.set_title({"name": title})
    chart.set_x_axis({"name": say("workbook.chart_axis"), "num_format": "0 %", "min": 0})
    chart.set_y_axis({"reverse": True, "crossing": "max"})  # rank 1 on top, as the table reads; the axis below
    chart.set_legend({"position": "bottom"} if len(series) > 1 else {"none": True})
    chart.set_size({"width": 960, "height": max(320, 80 + 26 * rows * len(series))})
    return chart


def _legend(writer: pd.ExcelWriter, waves: bool) -> None:
    """How to read the shares and the coloured cells, each line in the fill it explains."""
    book = writer.book
    sheet = book.add_worksheet(LEGEND)
    sheet.set_column(0, 0, 100, book.add_format({"text_wrap": True, "valign": "top"}))
    sheet.set_landscape()
    lines = [
        (say("workbook.legend"), {"bold": True}),
        (say("workbook.shares"), {}),
        (say("workbook.above"), ABOVE),
        (say("workbook.below"), BELOW),
        (say("workbook.small", min_base=MIN_BASE), SMALL_BASE),
    ]
    if waves:
        lines.append((say("workbook.change"), {}))
    for row, (text, style) in enumerate(lines):
        sheet.write_string(row, 0, text, book.add_format({**style, "text_wrap": True, "valign": "top"}))
