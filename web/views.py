"""Runs, themes, units and models as the pages and the JSON API show them (one shape for both)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select

from pipeline.charts import data_uri, drawn, respondent_base
from pipeline.errors import InputError, NotFoundError
from pipeline.exporters import downloads
from pipeline.manifest import run_title
from pipeline.messages import plural, say
from pipeline.nets import Net, summarise_nets
from pipeline.rank import _rank_key, masked, trim_quote
from pipeline.records import OTHER_ID, IdeaUnit, Theme
from pipeline.significance import SegmentCell, segment_cells
from review.actions import undone
from review.corrections import history
from review.runs import ReviewedRun
from review.store import EventRow, Run, Store

QUOTES_SHOWN = 3  # quotes per code on the run page


def runs_list(store: Store) -> list[dict]:
    """Recorded runs, latest first, each saying whether a reviewer has corrected it."""
    with store.reading() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc())).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    return [{**run_dict(r), "reviewed": r.run_id in reviewed} for r in rows]


def title_of(run: Run) -> str:
    """What the pages call a run: its question, else its answers file's own name ("vague2")."""
    return run_title(run.question, run.input_file)


def run_dict(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "title": title_of(run),
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
        "change_significant": theme.change_significant,  # beyond sampling noise: wave_changes
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


# A code's cell of the significance table as the API gives it within a segment (pipeline.significance.SegmentCell)
CELL_FIELDS = ("ci_low", "ci_high", "p_value", "p_adjusted", "significant", "direction", "tested")


def net_view_dict(view: NetView) -> dict:
    """A net of the run page's segment view: its figures in the segment, its codes in the segment's order."""
    return {
        **net_dict(view.net),
        "code_ids": [c.theme.theme_id for c in view.codes],
        "codes": [
            {
                "number": c.number,
                "theme_id": c.theme.theme_id,
                "label": c.theme.label,
                "share": round(c.share, 4),
                "n_respondents": c.n_respondents,
                "quotes": c.quotes,
                **({name: getattr(c.cell, name) for name in CELL_FIELDS} if c.cell else {}),
            }
            for c in view.codes
        ],
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
        raise NotFoundError(say("theme.unknown", theme=theme_id, run_id=reviewed.stored.run.run_id))
    if merge and (merge not in themes or merge == theme_id):
        raise InputError(say("theme.merge_target", theme=theme_id, target=merge))
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


@dataclass(frozen=True)
class Merged:
    """How a theme left the run: merged into another (``into``, a theme of the run now) by a correction."""

    theme_id: str
    label: str  # its label when it was merged
    into: str
    at: datetime

    def note(self, themes: list[Theme]) -> str:
        label = next(t.label for t in themes if t.theme_id == self.into)
        return say("theme.merged", old=self.label, label=label, at=self.at)


def merged_away(store: Store, reviewed: ReviewedRun, theme_id: str) -> Merged | None:
    """The merge that retired ``theme_id`` (the last one still in force), and the theme of the run it went into
    after any later merges; None for a theme of the run or one never merged."""
    into = reviewed.state.resolve(theme_id)
    if into == theme_id or into not in reviewed.state.themes:
        return None
    events = history(store, reviewed.stored.run.run_id)
    cancelled = undone(events)
    merge = next(
        e for e in reversed(events) if e.action == "merge" and e.seq not in cancelled and theme_id in e.payload["sources"]
    )
    label = merge.before.get(f"theme:{theme_id}", {}).get("label", theme_id)
    return Merged(theme_id, label, into, merge.at)


def report_context(reviewed: ReviewedRun) -> dict:
    """What the report shows, on the page and in the standalone file alike."""
    return {
        "run": reviewed.stored.run,
        "title": title_of(reviewed.stored.run),
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
    """A code as the pages show it: its number in the code frame (1, or 1.2 inside a net), its figures and the
    quotes shown; within a segment, its cell of the significance table."""

    number: str
    theme: Theme
    share: float
    n_respondents: int
    quotes: list[str] = field(default_factory=list)
    cell: SegmentCell | None = None

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
    """Respondents of one segment value (those with a kept idea), and who among them raises each code."""

    column: str
    value: str
    respondents: set[str]
    who: dict[str, set[str]]

    @property
    def base(self) -> int:
        return len(self.respondents)

    @property
    def sentence(self) -> str:
        """The base the page states: "Parts parmi les 27 répondants du segment « Fonction : Direction »…"."""
        return say("segment.base", respondents=plural(self.base, "respondent"), column=self.column, value=self.value)


def ranked_nets(reviewed: ReviewedRun, counts: SegmentCounts | None = None) -> list[NetView]:
    """Nets ranked as the markdown report ranks them, then the codes inside each; a net of one code is that code.

    With a segment's ``counts``, nets and codes are ranked again on that segment's respondents alone, by the same
    rules (a net counts each of them once, whatever codes they carry; "Autres" and mixed codes last), each code
    with quotes of that segment and its cell of the run's significance table; without, the run's own figures."""
    themes = {t.theme_id: t for t in reviewed.themes}
    if counts is None:
        nets, cells = reviewed.nets, {}
        figures = {t.theme_id: (t.share, t.n_respondents) for t in reviewed.themes}
        quotes = {t.theme_id: t.quotes for t in reviewed.themes}
    else:
        units = [u for u in reviewed.units if u.respondent_id in counts.respondents]
        inside = {u.unit_id for u in units}
        nets = summarise_nets(reviewed.themes, [a for a in reviewed.result.assignments if a.unit_id in inside], units)
        cells = {
            c.theme_id: c for c in segment_cells(reviewed.themes) if (c.segment, c.value) == (counts.column, counts.value)
        }
        hits = {t: len(counts.who.get(t, ())) for t in themes}
        figures = {t: (_share(n, counts.base), n) for t, n in hits.items()}
        quotes = segment_quotes(reviewed, counts)
    views = []
    for net in nets:
        codes = [themes[c] for c in net.code_ids]
        if counts is not None:  # as rank_themes orders codes, on the segment's respondents
            codes.sort(key=lambda t: _rank_key(replace(t, n_respondents=figures[t.theme_id][1])))
        numbers = [str(net.rank)] if len(codes) == 1 else [f"{net.rank}.{n}" for n in range(1, len(codes) + 1)]
        view = NetView(net, net.share, net.n_respondents)
        view.codes = [
            CodeView(n, t, *figures[t.theme_id], quotes.get(t.theme_id, []), cells.get(t.theme_id))
            for n, t in zip(numbers, codes, strict=True)
        ]
        views.append(view)
    return views


def segment_counts(reviewed: ReviewedRun, column: str, value: str) -> SegmentCounts:
    """Respondents whose ``column`` is ``value`` ("(vide)" for none, as ``rank_themes`` counts them)."""
    if column not in reviewed.stored.run.segment_columns:
        raise InputError(
            say("segment.unknown_column", column=column, columns=", ".join(reviewed.stored.run.segment_columns))
        )
    segments_of = {r.respondent_id: r.segments for r in reviewed.stored.responses}
    inside = {
        u.respondent_id for u in reviewed.units if (segments_of.get(u.respondent_id, {}).get(column) or "(vide)") == value
    }
    if not inside:
        raise InputError(say("segment.unknown_value", column=column, value=value))
    respondent_of = {u.unit_id: u.respondent_id for u in reviewed.units}
    who: dict[str, set[str]] = defaultdict(set)
    for a in reviewed.result.assignments:
        if respondent_of.get(a.unit_id) in inside:
            who[a.theme_id].add(respondent_of[a.unit_id])
    return SegmentCounts(column, value, inside, who)


def segment_quotes(reviewed: ReviewedRun, counts: SegmentCounts) -> dict[str, list[str]]:
    """Per code, up to QUOTES_SHOWN ideas of the segment's respondents, closest to the code first, each text once;
    ideas with masked personal data only when the code has no other (as the run's quotes are picked)."""
    text_of = {u.unit_id: u.text for u in reviewed.units if u.respondent_id in counts.respondents}
    texts: dict[str, list[str]] = defaultdict(list)
    for a in sorted(reviewed.result.assignments, key=lambda a: -a.score):
        if a.unit_id in text_of:
            texts[a.theme_id].append(text_of[a.unit_id])
    return {theme_id: _quotes(candidates) for theme_id, candidates in texts.items()}


def _quotes(texts: list[str]) -> list[str]:
    shown: dict[str, str] = {}  # casefolded -> as shown
    for text in [t for t in texts if not masked(t)] or texts:
        shown.setdefault(trim_quote(text).casefold(), trim_quote(text))
        if len(shown) == QUOTES_SHOWN:
            break
    return list(shown.values())


def _share(n: int, base: int) -> float:
    return n / base if base else 0.0
