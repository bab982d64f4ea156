"""Runs, themes, units and models as the pages and the JSON API show them (one shape for both)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from pipeline.charts import data_uri, drawn, respondent_base
from pipeline.errors import InputError, NotFoundError
from pipeline.exporters import downloads
from pipeline.nets import Net
from pipeline.records import OTHER_ID, IdeaUnit, Theme
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
        "net_id": theme.net_id or theme.theme_id,
        "net_label": theme.net_label or theme.label,
        "coherence": theme.coherence,
        "mixed": theme.mixed,
    }


def net_dict(net: Net) -> dict:
    return {
        "rank": net.rank,
        "net_id": net.net_id,
        "label": net.label,
        "share": round(net.share, 4),
        "n_respondents": net.n_respondents,
        "code_ids": list(net.code_ids),
    }


def model_dict(row) -> dict:
    return {
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "metrics": row.metrics,
        "n_items": row.n_items,
        "runs": row.runs,
    }


@dataclass(frozen=True)
class UnitView:
    """An idea unit of a theme as its page and the API show it: how close it is to the theme, and its themes."""

    unit: IdeaUnit
    score: float  # cosine to the theme's centre as reviewed (as in assignments.csv)
    themes: list[tuple[str, str]]  # (id, label) of each of its themes, its main one first


def theme_units(reviewed: ReviewedRun, theme_id: str) -> list[UnitView]:
    """The idea units a theme holds now, after corrections: closest to the theme first, then by respondent."""
    scores = {a.unit_id: a.score for a in reviewed.result.assignments if a.theme_id == theme_id}
    themes, labels = reviewed.state.themes, reviewed.state.labels
    views = [
        UnitView(u, scores.get(u.unit_id, 0.0), [(t, themes[t].label) for t in labels[u.unit_id]])
        for u in reviewed.stored.units
        if theme_id in labels.get(u.unit_id, [])
    ]
    return sorted(views, key=lambda v: (-v.score, v.unit.respondent_id, v.unit.unit_id))


def containing(units: list[UnitView], q: str) -> list[UnitView]:
    """The units whose text contains ``q``, whatever the case (an empty ``q`` keeps them all)."""
    return [u for u in units if q.casefold() in u.unit.text.casefold()]


def unit_dict(view: UnitView) -> dict:
    unit = view.unit
    return {
        "unit_id": unit.unit_id,
        "respondent_id": unit.respondent_id,
        "text": unit.text,
        "score": view.score,
        "themes": [theme_id for theme_id, _ in view.themes],
    }


def theme_view(reviewed: ReviewedRun, theme_id: str, q: str = "", merge: str = "") -> dict:
    """What a theme's page shows: the theme, its units closest first, the themes they can go to and, when the
    reviewer asked to merge it into another (``merge``), that theme too, so that both sizes are confirmed."""
    themes = {t.theme_id: t for t in reviewed.themes}
    if theme_id not in themes:
        raise NotFoundError(f"no theme '{theme_id}' in run {reviewed.stored.run.run_id}")
    if merge and (merge not in themes or merge == theme_id):
        raise InputError(f"cannot merge theme '{theme_id}' into '{merge}': choose another theme of this run")
    members = theme_units(reviewed, theme_id)
    return {
        "theme": themes[theme_id],
        "units": containing(members, q),
        "total": len(members),
        "q": q,
        "themes": reviewed.themes,
        "version": reviewed.state.version,
        "merge_into": themes.get(merge),
    }


def report_context(reviewed: ReviewedRun) -> dict:
    """What the report shows, on the page and in the standalone file alike."""
    return {
        "run": reviewed.stored.run,
        "themes": reviewed.themes,
        "nets": ranked_nets(reviewed),
        "version": reviewed.state.version,
        "excluded": len(reviewed.excluded),
        "formats": list(downloads()),
        "charts": [
            (chart.alt, data_uri(png))
            for chart, png in drawn(reviewed.themes, reviewed.nets, respondent_base(reviewed.units))
        ],
    }


def segment_values(reviewed: ReviewedRun) -> dict[str, list[str]]:
    values: dict[str, set[str]] = {c: set() for c in reviewed.stored.run.segment_columns}
    for theme in reviewed.themes:
        for column, shares in theme.segments.items():
            values.setdefault(column, set()).update(shares)
    return {c: sorted(v) for c, v in values.items()}


# Why a code sits below the others: one line the reader sees under its label.
WHY_OTHER = "Réponses qui ne relèvent d'aucun thème."
WHY_MIXED = "Thème peu cohérent : ses réponses parlent de sujets différents."


@dataclass
class CodeView:
    """A code as the pages show it: its number in the code frame (1, or 1.2 inside a net) and its figures."""

    number: str
    theme: Theme
    share: float
    n_respondents: int

    @property
    def why(self) -> str:
        if self.theme.theme_id == OTHER_ID:
            return WHY_OTHER
        return WHY_MIXED if self.theme.mixed else ""


@dataclass
class NetView:
    """A net as the pages show it: its codes in order, its respondents counted once (in the segment, if any)."""

    net: Net
    share: float
    n_respondents: int
    codes: list[CodeView] = field(default_factory=list)


@dataclass
class SegmentCounts:
    """Respondents of one segment value: how many have a kept idea, and who raises each code."""

    base: int
    who: dict[str, set[str]]


def ranked_nets(reviewed: ReviewedRun, counts: SegmentCounts | None = None) -> list[NetView]:
    """Nets ranked as the markdown report ranks them, then the codes inside each; a net of one code is that code.

    With a segment's ``counts``, shares are of that segment's respondents and a net counts each of them once,
    whatever codes they carry; without, the run's own figures (the rank stays the run's)."""
    themes = {t.theme_id: t for t in reviewed.themes}
    views = []
    for net in reviewed.nets:
        codes = [themes[c] for c in net.code_ids]
        numbers = [str(net.rank)] if len(codes) == 1 else [f"{net.rank}.{n}" for n in range(1, len(codes) + 1)]
        if counts is None:
            view = NetView(net, net.share, net.n_respondents)
            view.codes = [CodeView(n, t, t.share, t.n_respondents) for n, t in zip(numbers, codes, strict=True)]
        else:
            people = [counts.who.get(t.theme_id, set()) for t in codes]
            everyone = set().union(*people)
            view = NetView(net, _share(len(everyone), counts.base), len(everyone))
            view.codes = [
                CodeView(n, t, _share(len(who), counts.base), len(who))
                for n, t, who in zip(numbers, codes, people, strict=True)
            ]
        views.append(view)
    return views


def segment_counts(reviewed: ReviewedRun, column: str, value: str) -> SegmentCounts:
    """Respondents whose ``column`` is ``value`` ("(vide)" for none, as ``rank_themes`` counts them)."""
    segments_of = {r.respondent_id: r.segments for r in reviewed.stored.responses}
    inside = {
        u.respondent_id for u in reviewed.units if (segments_of.get(u.respondent_id, {}).get(column) or "(vide)") == value
    }
    respondent_of = {u.unit_id: u.respondent_id for u in reviewed.units}
    who: dict[str, set[str]] = defaultdict(set)
    for a in reviewed.result.assignments:
        if respondent_of.get(a.unit_id) in inside:
            who[a.theme_id].add(respondent_of[a.unit_id])
    return SegmentCounts(len(inside), who)


def _share(n: int, base: int) -> float:
    return n / base if base else 0.0
