"""Write a run's results in the forms report writers and other tools pick up."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from pipeline.manifest import Manifest
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme

# A spreadsheet runs a cell starting with one of these as a formula; verbatims are untrusted text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
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


def write_outputs(
    out_dir: Path,
    themes: list[Theme],
    assignments: list[Assignment],
    units: list[IdeaUnit],
    excluded: list[Excluded],
    responses: list[Response],
    manifest: Manifest,
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        name: out_dir / name
        for name in (
            "themes.csv",
            "themes.json",
            "themes.xlsx",
            "segments.csv",
            "assignments.csv",
            "excluded.csv",
            "report.md",
        )
    }
    themes_table = _safe(themes_frame(themes))
    segments_table = _safe(segments_frame(themes))
    assignments_table = _safe(assignments_frame(assignments, units, themes, responses))
    excluded_table = _safe(excluded_frame(excluded))
    themes_table.to_csv(paths["themes.csv"], index=False, encoding="utf-8-sig")  # BOM: Excel opens accents right
    segments_table.to_csv(paths["segments.csv"], index=False, encoding="utf-8-sig")
    assignments_table.to_csv(paths["assignments.csv"], index=False, encoding="utf-8-sig")
    excluded_table.to_csv(paths["excluded.csv"], index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(
        paths["themes.xlsx"],
        engine="xlsxwriter",
        # verbatims stay text: no cell becomes a formula or a link, whatever it starts with
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as book:
        themes_table.to_excel(book, sheet_name="Thèmes", index=False)
        segments_table.to_excel(book, sheet_name="Segments", index=False)
        assignments_table.to_excel(book, sheet_name="Idées", index=False)
        excluded_table.to_excel(book, sheet_name="Écartées", index=False)
    document = {"run_id": manifest.run_id, "themes": [asdict(t) for t in themes]}
    paths["themes.json"].write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["report.md"].write_text(markdown_report(themes, manifest, excluded), encoding="utf-8")
    return paths
