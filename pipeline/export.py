"""What a run's files say: its tables (one row per theme, segment, idea unit, set-aside answer) and its report.

Which files hold them, by format name, is ``pipeline.exporters``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from pipeline.manifest import Manifest
from pipeline.markdown import md_text
from pipeline.messages import decimal, plural, plural_word, say
from pipeline.nets import Net
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme
from pipeline.significance import MIN_BASE, SegmentCell, segment_cells

# A spreadsheet runs a cell starting with one of these as a formula; verbatims are untrusted text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SIGNIFICANCE_LEGEND = (
    "▲ / ▼ : part significativement au-dessus / au-dessous du reste des répondants (test z, correction de "
    f"Benjamini-Hochberg, 5 %) ; n : base du segment ; bases de moins de {MIN_BASE} (en italique) non testées."
)
ALERTS = "alerts"  # run parameter: a classified wave's alerts, French sentences (review.classify writes them)


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(_safe_column)


def _safe_column(column: pd.Series) -> pd.Series:
    """``safe_cell`` on every value; a column of strings at once (a cell at a time, the 42,230 rows of a
    10,100-answer run's ideas took 0.17 s, on the way to its workbook)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.mask(column.str.startswith(_FORMULA_START, na=False), "'" + column)
    if pd.api.types.is_numeric_dtype(column.dtype):  # numbers and booleans: no text to run
        return column
    return column.map(safe_cell)


def themes_frame(themes: list[Theme], nets: list[Net]) -> pd.DataFrame:
    """One row per code, in rank order (nets first, then codes inside each), with its net's rank and figures."""
    net_of = {code: net for net in nets for code in net.code_ids}
    rows = []
    for t in themes:
        net = net_of[t.theme_id]
        row = {
            "rank": t.rank,
            "net_rank": net.rank,
            "net_id": net.net_id,
            "net_label": net.label,
            "net_respondents": net.n_respondents,
            "net_share": round(net.share, 4),
            "theme_id": t.theme_id,
            "label": t.label,
            "n_respondents": t.n_respondents,
            "share": round(t.share, 4),
            "n_units": t.n_units,
            "keywords": "; ".join(t.keywords),
            "from_codebook": t.from_codebook,
            # 1.0: its answers are as alike as any two answers; 2.0: twice as alike. A number column (NaN when
            # not scored), so that Parquet types it as the CSV reads it
            "coherence": float("nan") if t.coherence is None else t.coherence,
            "mixed": t.mixed,
        }
        if any(x.change_pts is not None or x.proposed for x in themes):  # a wave compared with the previous one
            row.update(
                {
                    "change_pts": t.change_pts,
                    "proposed": t.proposed,
                    # the change's test: the previous share and base, Benjamini-Hochberg p over the wave's themes
                    "previous_share": _number(t.previous_share, 4),
                    "previous_base": t.previous_base,
                    "change_p": _number(t.change_p),
                    "change_significant": t.change_significant,
                }
            )
        row.update({f"quote_{i}": q for i, q in enumerate(t.quotes, start=1)})
        rows.append(row)
    return pd.DataFrame(rows)


SEGMENT_COLUMNS = ["rank", "theme_id", "label", "segment", "value", "share", "base", "ci_low", "ci_high"]
SEGMENT_COLUMNS += ["p_value", "p_adjusted", "significant", "direction", "tested"]


def segments_frame(themes: list[Theme]) -> pd.DataFrame:
    """One row per theme and segment value: the share, its base and 95% interval, and its test against the rest of
    the respondents (empty when the base is under ``significance.MIN_BASE``)."""
    of = {t.theme_id: t for t in themes}
    rows = [
        {
            "rank": of[c.theme_id].rank,
            "theme_id": c.theme_id,
            "label": of[c.theme_id].label,
            "segment": c.segment,
            "value": c.value,
            "share": round(c.share, 4),
            "base": c.base,
            "ci_low": _number(c.ci_low, 4),
            "ci_high": _number(c.ci_high, 4),
            "p_value": _number(c.p_value),  # unrounded: a small p-value must not read as 0
            "p_adjusted": _number(c.p_adjusted),
            "significant": c.significant,
            "direction": c.direction,
            "tested": c.tested,
        }
        for c in segment_cells(themes)
    ]
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def _number(value: float | None, digits: int | None = None) -> float:
    """NaN, not None, when empty: a number column that Parquet types as the CSV reads it."""
    return float("nan") if value is None else round(value, digits) if digits is not None else value


def assignments_frame(
    assignments: list[Assignment], units: list[IdeaUnit], themes: list[Theme], responses: list[Response]
) -> pd.DataFrame:
    """One row per idea unit and theme it carries (its nearest, then those whose label words it holds:
    ``pipeline.label_codes``); ``unit_no`` is the unit's number within its answer (segments are respondent
    columns). Built a column at a time: row dicts took 0.23 s for a 10,100-answer run's 42,230 rows, 0.10 s so."""
    if not assignments:
        return pd.DataFrame()
    unit_of = {u.unit_id: u for u in units}
    label_of = {t.theme_id: t.label for t in themes}
    net_of = {t.theme_id: (t.net_id or t.theme_id, t.net_label or t.label) for t in themes}
    segments_of = {r.respondent_id: r.segments for r in responses}
    carried = [unit_of[a.unit_id] for a in assignments]
    columns = {
        "id": [u.respondent_id for u in carried],
        "unit_no": [int(u.unit_id.rsplit("#", 1)[1]) if "#" in u.unit_id else 1 for u in carried],
        "unit_id": [u.unit_id for u in carried],
        "text": [u.text for u in carried],
        "theme_id": [a.theme_id for a in assignments],
        "theme_label": [label_of[a.theme_id] for a in assignments],
        "score": [a.score for a in assignments],
        "net_id": [net_of[a.theme_id][0] for a in assignments],
        "net_label": [net_of[a.theme_id][1] for a in assignments],
    }
    segments = [segments_of.get(u.respondent_id, {}) for u in carried]
    for name in dict.fromkeys(name for values in segments for name in values):
        columns[name] = [values.get(name) for values in segments]
    return pd.DataFrame(columns)


def excluded_frame(excluded: list[Excluded]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": e.respondent_id, "text": e.text, "reason": e.reason} for e in excluded], columns=["id", "text", "reason"]
    )


def markdown_report(
    themes: list[Theme],
    manifest: Manifest,
    excluded: list[Excluded],
    nets: list[Net],
    charts: Sequence[tuple[str, str]] = (),
) -> str:
    """Nets (« thèmes ») ranked, then the codes inside each (« sous-thèmes »), as a code frame numbers them:
    net 1, its codes 1.1, 1.2. A net of one code is shown as that code. ``charts``: (file name, alternative text)
    of the chart images written next to the report, shown under the summary."""
    counts = manifest.counts
    lines = [
        f"# Thèmes : {md_text(manifest.title)}",
        "",
        f"{plural(counts.respondents_kept, 'respondent')} {plural_word(counts.respondents_kept, 'analysed_m')} "
        f"sur {plural(counts.rows_in, 'answer')} {plural_word(counts.rows_in, 'received')} "
        f"({plural(counts.units, 'distinct_idea')} ; {plural(counts.excluded, 'answer')} "
        f"{plural_word(counts.excluded, 'set_aside')}). "
        "La part d'un thème est celle des répondants analysés qui l'évoquent ; une réponse peut en évoquer plusieurs. "
        "Un thème regroupe des sous-thèmes proches et compte une seule fois le répondant qui en évoque plusieurs. "
        "Une idée qui reprend tous les mots du nom d'un sous-thème compte aussi dans celui-ci.",
        "",
    ]
    codes = {t.theme_id: t for t in themes}
    waves = any(t.change_pts is not None for t in themes)
    lines += _summary_table(nets, codes, manifest if waves else None)
    lines += [line for file_name, alt in charts for line in ("", f"![{md_text(alt)}]({file_name})")]
    lines += _alerts(manifest)
    if any(t.segments for t in themes):
        lines += ["", SIGNIFICANCE_LEGEND]
    cells = {(c.theme_id, c.segment, c.value): c for c in segment_cells(themes)}
    for net in nets:
        inside = [codes[c] for c in net.code_ids]
        if len(inside) == 1:
            lines += ["", f"## {net.rank}. {md_text(net.label)} ({net.share:.0%})", "", *_code_body(inside[0], cells)]
            continue
        lines += ["", f"## {net.rank}. {md_text(net.label)} ({net.share:.0%})", ""]
        lines.append(f"{plural(net.n_respondents, 'respondent')}, {plural(len(inside), 'subtheme')}.")
        for n, t in enumerate(inside, start=1):
            lines += ["", f"### {net.rank}.{n}. {md_text(t.label)} ({t.share:.0%})", "", *_code_body(t, cells)]
    if excluded:
        lines += ["", "## Réponses écartées", "", "| Raison | Nombre |", "|---|---:|"]
        reasons = Counter(e.kind for e in excluded)
        lines += [f"| {md_text(reason)} | {n} |" for reason, n in reasons.most_common()]
        lines += ["", "Le détail est dans `excluded.csv`."]
    return "\n".join(lines) + "\n"


def _summary_table(nets: list[Net], codes: dict[str, Theme], waves: Manifest | None) -> list[str]:
    """One row per net (in bold when it has several sous-thèmes, each on a row of its own below it)."""
    lines = []
    if waves:
        lines += [_wave_legend(waves, list(codes.values())), ""]
    extra = " Évolution |" if waves else ""
    lines += ["| Rang | Thème | Répondants | Part |" + extra, "|---:|---|---:|---:|" + ("---:|" if waves else "")]
    for net in nets:
        inside = [codes[c] for c in net.code_ids]
        if len(inside) == 1:
            t = inside[0]
            lines.append(f"| {net.rank} | {md_text(net.label)} | {t.n_respondents} | {t.share:.0%} |" + _cell(t, waves))
            continue
        lines.append(f"| {net.rank} | **{md_text(net.label)}** | {net.n_respondents} | {net.share:.0%} |" + _blank(waves))
        lines += [
            f"| {net.rank}.{n} | {md_text(t.label)} | {t.n_respondents} | {t.share:.0%} |" + _cell(t, waves)
            for n, t in enumerate(inside, start=1)
        ]
    return lines


def _alerts(manifest: Manifest) -> list[str]:
    """A classified wave's alerts (model below the guard, shares beyond chance), when there are any."""
    alerts = manifest.parameters.get(ALERTS) if manifest.model_version else None
    return ["", "## Alertes", "", *(f"- {md_text(a)}" for a in alerts)] if alerts else []


def _cell(theme: Theme, waves: Manifest | None) -> str:
    return f" {_change(theme)} |" if waves else ""


def _blank(waves: Manifest | None) -> str:
    return "  |" if waves else ""


def _code_body(t: Theme, cells: dict[tuple[str, str, str], SegmentCell]) -> list[str]:
    """A code's figures, keywords, quotes and shares by segment."""
    counts = f"{plural(t.n_respondents, 'respondent')}, {plural(t.n_units, 'idea')}"
    lines = [f"{counts}. Mots-clés : {md_text(', '.join(t.keywords[:8]))}.", ""]
    lines += [f"> « {md_text(q)} »\n" for q in t.quotes]
    for column, values in t.segments.items():
        shown = ", ".join(_segment_cell(cells[t.theme_id, column, value]) for value in values)
        lines.append(f"*Par {md_text(column)} :* {shown}  ")
    return lines


def _segment_cell(cell: SegmentCell) -> str:
    """« 18-34 ans 42% ▲ (n = 120) »; in italics when its base is too small to test, as survey tables grey it."""
    mark = {"above": " ▲", "below": " ▼"}[cell.direction] if cell.significant else ""
    text = f"{md_text(cell.value)} {cell.share:.0%}{mark} (n = {cell.base})"
    return text if cell.tested else f"_{text}_"


def _wave_legend(manifest: Manifest, themes: list[Theme]) -> str:
    """What the changes are against, on which bases, and whether they could be tested."""
    tested = any(t.change_p is not None for t in themes)
    before = max((t.previous_base for t in themes), default=0)
    return say(
        "wave.tested" if tested else "wave.untested",
        previous=md_text(manifest.previous_run_id or "la vague précédente"),
        before=plural(before, "respondent"),
        after=plural(manifest.counts.respondents_kept, "respondent"),
        min_base=MIN_BASE,
    )


def _change(theme: Theme) -> str:
    """« +12,3 pt ▲ »: the change against the previous wave, marked only when beyond sampling noise."""
    if theme.proposed:
        return "nouveau"
    if theme.change_pts is None:
        return ""
    mark = (" ▲" if theme.change_pts > 0 else " ▼") if theme.change_significant else ""
    return f"{decimal(theme.change_pts, '+.1f')} pt{mark}"
