"""What a run's files say: its tables (one row per theme, segment, idea unit, set-aside answer) and its report.

Which files hold them, by format name, is ``pipeline.exporters``."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from pipeline.manifest import Manifest
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme

# A spreadsheet runs a cell starting with one of these as a formula; verbatims are untrusted text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: column.map(safe_cell))


def themes_frame(themes: list[Theme]) -> pd.DataFrame:
    rows = []
    for t in themes:
        row = {
            "rank": t.rank,
            "theme_id": t.theme_id,
            "label": t.label,
            "n_respondents": t.n_respondents,
            "share": round(t.share, 4),
            "n_units": t.n_units,
            "keywords": "; ".join(t.keywords),
            "from_codebook": t.from_codebook,
        }
        if any(x.change_pts is not None or x.proposed for x in themes):  # a wave compared with the previous one
            row.update({"change_pts": t.change_pts, "proposed": t.proposed})
        row.update({f"quote_{i}": q for i, q in enumerate(t.quotes, start=1)})
        rows.append(row)
    return pd.DataFrame(rows)


def segments_frame(themes: list[Theme]) -> pd.DataFrame:
    rows = [
        {
            "rank": t.rank,
            "theme_id": t.theme_id,
            "label": t.label,
            "segment": column,
            "value": value,
            "share": round(share, 4),
        }
        for t in themes
        for column, values in t.segments.items()
        for value, share in values.items()
    ]
    return pd.DataFrame(rows, columns=["rank", "theme_id", "label", "segment", "value", "share"])


def assignments_frame(
    assignments: list[Assignment], units: list[IdeaUnit], themes: list[Theme], responses: list[Response]
) -> pd.DataFrame:
    """One row per idea unit; ``unit_no`` is the unit's number within its answer (segments are respondent
    columns)."""
    unit_of = {u.unit_id: u for u in units}
    label_of = {t.theme_id: t.label for t in themes}
    segments_of = {r.respondent_id: r.segments for r in responses}
    rows = []
    for a in assignments:
        unit = unit_of[a.unit_id]
        number = int(unit.unit_id.rsplit("#", 1)[1]) if "#" in unit.unit_id else 1
        rows.append(
            {
                "id": unit.respondent_id,
                "unit_no": number,
                "unit_id": unit.unit_id,
                "text": unit.text,
                "theme_id": a.theme_id,
                "theme_label": label_of[a.theme_id],
                "score": a.score,
                **segments_of.get(unit.respondent_id, {}),
            }
        )
    return pd.DataFrame(rows)


def excluded_frame(excluded: list[Excluded]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": e.respondent_id, "text": e.text, "reason": e.reason} for e in excluded], columns=["id", "text", "reason"]
    )


def markdown_report(themes: list[Theme], manifest: Manifest, excluded: list[Excluded]) -> str:
    counts = manifest.counts
    lines = [
        f"# Thèmes : {manifest.title}",
        "",
        f"{counts.respondents_kept} répondants analysés sur {counts.rows_in} réponses reçues "
        f"({counts.units} idées distinctes ; {counts.excluded} réponses écartées). "
        "La part d'un thème est celle des répondants analysés qui l'évoquent ; une réponse peut en évoquer plusieurs.",
        "",
    ]
    if any(t.change_pts is not None for t in themes):
        previous = manifest.previous_run_id or "la vague précédente"
        lines += [
            f"Évolution en points par rapport à {_md(previous)} ; « nouveau » : thème proposé, à valider en revue.",
            "",
            "| Rang | Thème | Répondants | Part | Évolution |",
            "|---:|---|---:|---:|---:|",
        ]
        lines += [f"| {t.rank} | {_md(t.label)} | {t.n_respondents} | {t.share:.0%} | {_change(t)} |" for t in themes]
    else:
        lines += ["| Rang | Thème | Répondants | Part |", "|---:|---|---:|---:|"]
        lines += [f"| {t.rank} | {_md(t.label)} | {t.n_respondents} | {t.share:.0%} |" for t in themes]
    for t in themes:
        lines += ["", f"## {t.rank}. {_md(t.label)} ({t.share:.0%})", ""]
        lines.append(f"{t.n_respondents} répondants, {t.n_units} idées. Mots-clés : {_md(', '.join(t.keywords[:8]))}.")
        lines.append("")
        lines += [f"> « {_md(q)} »\n" for q in t.quotes]
        for column, values in t.segments.items():
            cells = ", ".join(f"{_md(value)} {share:.0%}" for value, share in values.items())
            lines.append(f"*Par {_md(column)} :* {cells}  ")
    if excluded:
        lines += ["", "## Réponses écartées", "", "| Raison | Nombre |", "|---|---:|"]
        reasons = Counter(e.kind for e in excluded)
        lines += [f"| {_md(reason)} | {n} |" for reason, n in reasons.most_common()]
        lines += ["", "Le détail est dans `excluded.csv`."]
    return "\n".join(lines) + "\n"


def _change(theme: Theme) -> str:
    if theme.proposed:
        return "nouveau"
    return "" if theme.change_pts is None else f"{theme.change_pts:+.1f} pt"


def _md(text: str) -> str:
    """Verbatims are untrusted: no HTML and no table breaks once the Markdown is rendered."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")
