"""Runs, themes, units and models as the pages and the JSON API show them (one shape for both)."""

from __future__ import annotations

from sqlalchemy import select

from pipeline.exporters import downloads
from pipeline.records import IdeaUnit
from review.runs import ReviewedRun
from review.store import EventRow, Run, Store


def runs_list(store: Store) -> list[dict]:
    """Recorded runs, latest first, each saying whether a reviewer has corrected it."""
    with store.session() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc())).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    return [{**run_dict(r), "reviewed": r.run_id in reviewed} for r in rows]


def run_dict(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "created_at": run.created_at.isoformat(),
        "input_file": run.input_file,
        "question": run.question,
        "segment_columns": run.segment_columns,
        "model_version": run.model_version,
        "previous_run_id": run.previous_run_id,
    }


def theme_dict(theme) -> dict:
    return {
        "rank": theme.rank,
        "theme_id": theme.theme_id,
        "label": theme.label,
        "share": round(theme.share, 4),
        "n_respondents": theme.n_respondents,
        "n_units": theme.n_units,
        "keywords": theme.keywords,
        "quotes": theme.quotes,
        "segments": theme.segments,
        "change_pts": theme.change_pts,
        "proposed": theme.proposed,
    }


def model_dict(row) -> dict:
    return {
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "metrics": row.metrics,
        "n_items": row.n_items,
        "runs": row.runs,
    }


def theme_units(reviewed: ReviewedRun, theme_id: str) -> list[IdeaUnit]:
    """The idea units a theme holds now, after corrections, in the run's order."""
    return [u for u in reviewed.stored.units if theme_id in reviewed.state.labels.get(u.unit_id, [])]


def containing(units: list[IdeaUnit], q: str) -> list[IdeaUnit]:
    """The units whose text contains ``q``, whatever the case (an empty ``q`` keeps them all)."""
    return [u for u in units if q.casefold() in u.text.casefold()]


def unit_dict(unit: IdeaUnit) -> dict:
    return {"unit_id": unit.unit_id, "respondent_id": unit.respondent_id, "text": unit.text}


def report_context(reviewed: ReviewedRun) -> dict:
    """What the report shows, on the page and in the standalone file alike."""
    return {
        "run": reviewed.stored.run,
        "themes": reviewed.themes,
        "version": reviewed.state.version,
        "excluded": len(reviewed.excluded),
        "formats": list(downloads()),
    }


def segment_values(reviewed: ReviewedRun) -> dict[str, list[str]]:
    values: dict[str, set[str]] = {c: set() for c in reviewed.stored.run.segment_columns}
    for theme in reviewed.themes:
        for column, shares in theme.segments.items():
            values.setdefault(column, set()).update(shares)
    return {c: sorted(v) for c, v in values.items()}
