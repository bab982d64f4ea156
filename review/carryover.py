"""Carry reviewers' work over to a new analysis of overlapping data.

Matching is by content, never by cluster number: an idea unit is the same when its text is (``text_key``),
and a new theme takes a reviewed theme's id and label when most of its already-reviewed units sat in
that theme. Units a reviewer set one by one keep what the reviewer said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select

from pipeline.records import Assignment, ClusterResult, Excluded, IdeaUnit, Theme
from review.corrections import load_state
from review.store import EventRow, Run, Store, UnitRow, text_key

# A new theme is the reviewed theme when at least this share of its known units were in it.
MIN_THEME_AGREEMENT = 0.5
MIN_KNOWN_UNITS = 2
# The run parameter (``ClusterResult.parameters``, then the manifest's) naming the nets a new analysis keeps
# from review: theme id -> net label, beside the codebook's ``net:`` entries.
CARRIED_NETS = "carried_nets"


@dataclass(frozen=True)
class Carried:
    """What review said about one text in the latest reviewed run that holds it."""

    run_id: str
    themes: tuple[tuple[str, str], ...]  # (theme id, label), primary first
    off_topic: bool
    set_by_reviewer: bool
    nets: tuple[tuple[str, str], ...] = ()  # (net id, label) of each theme, when reviewers set the run's nets


def reviewed_labels(store: Store, units: list[IdeaUnit]) -> dict[str, Carried]:
    """text_key -> Carried, from every reviewed run, the latest run winning."""
    with store.session() as session:
        runs = session.scalars(
            select(Run.run_id).where(Run.run_id.in_(select(EventRow.run_id).distinct())).order_by(Run.created_at)
        ).all()
    if not runs:
        return {}  # nothing reviewed yet: the units' keys (0.15 s for 18,700) are not needed
    keys = {text_key(u.text) for u in units}
    carried: dict[str, Carried] = {}
    for run_id in runs:
        state = load_state(store, run_id)
        with store.session() as session:
            rows = session.execute(select(UnitRow.unit_id, UnitRow.text_key).where(UnitRow.run_id == run_id)).all()
        for unit_id, key in rows:
            if key in keys:
                themes = tuple((t, state.themes[t].label) for t in state.labels.get(unit_id, []))
                nets = tuple(state.net_of(t) for t, _ in themes) if state.renetted else ()
                carried[key] = Carried(run_id, themes, unit_id in state.off_topic, unit_id in state.reviewed, nets)
    return carried


def drop_off_topic(units: list[IdeaUnit], carried: dict[str, Carried]) -> tuple[list[int], list[Excluded]]:
    """Indices of units to keep, and the ones a reviewer marked off-topic, set aside with the reason."""
    if not carried:
        return list(range(len(units))), []
    keep, excluded = [], []
    for i, unit in enumerate(units):
        c = carried.get(text_key(unit.text))
        if c and c.off_topic:
            excluded.append(Excluded(unit.respondent_id, unit.text, f"off-topic (reviewed in run {c.run_id})"))
        else:
            keep.append(i)
    return keep, excluded


def carry_themes(result: ClusterResult, units: list[IdeaUnit], carried: dict[str, Carried]) -> tuple[ClusterResult, dict]:
    """Rename matching themes to their reviewed id and label; put reviewer-set units where the reviewer put them."""
    known = {u.unit_id: carried[k] for u in units if (k := text_key(u.text)) in carried and carried[k].themes}
    by_theme: dict[str, Counter] = {}
    for a in result.assignments:
        if a.unit_id in known:
            by_theme.setdefault(a.theme_id, Counter())[known[a.unit_id].themes[0]] += 1
    renamed: dict[str, tuple[str, str]] = {}
    for theme_id, votes in by_theme.items():
        (reviewed, count), total = votes.most_common(1)[0], sum(votes.values())
        if count >= MIN_KNOWN_UNITS and count / total >= MIN_THEME_AGREEMENT:
            renamed[theme_id] = reviewed
    themes: dict[str, Theme] = {}
    for theme in result.themes:
        new_id, label = renamed.get(theme.theme_id, (theme.theme_id, theme.label))
        # the same theme under its reviewed id and label: its coherence and mixed flag stay as the refiner set them
        themes.setdefault(new_id, replace(theme, theme_id=new_id, label=label))
    assignments: list[Assignment] = []
    moved = 0
    for a in result.assignments:
        c = known.get(a.unit_id)
        if c and c.set_by_reviewer:
            moved += [t for t, _ in c.themes] != [renamed.get(a.theme_id, (a.theme_id,))[0]]
            for theme_id, label in c.themes:
                themes.setdefault(theme_id, Theme(theme_id, label, []))
                assignments.append(Assignment(a.unit_id, theme_id, a.score))
        else:
            new_id = renamed.get(a.theme_id, (a.theme_id,))[0]
            runner_up = renamed.get(a.runner_up_id, (a.runner_up_id,))[0] if a.runner_up_id else None
            assignments.append(
                Assignment(
                    a.unit_id,
                    new_id,
                    a.score,
                    runner_up if runner_up != new_id else None,
                    a.runner_up_score if runner_up != new_id else None,
                )
            )
    used = {a.theme_id for a in assignments}
    kept = [t for t in themes.values() if t.theme_id in used]
    nets = carry_nets(kept, known.values())
    stats = {
        "units_known": len(known),
        "themes_matched": len(renamed),
        "units_set_by_reviewer": moved,
        "themes_in_reviewed_nets": len(nets),
    }
    parameters = {**result.parameters, CARRIED_NETS: nets} if nets else result.parameters
    return ClusterResult(kept, assignments, parameters), stats


def set_by_reviewers(units: list[IdeaUnit], carried: dict[str, Carried]) -> set[str]:
    """Ids of the units whose themes a reviewer set: ``carry_themes`` gives them those, and nothing adds to them."""
    return {u.unit_id for u in units if (c := carried.get(text_key(u.text))) and c.themes and c.set_by_reviewer}


def carry_nets(themes: list[Theme], carried: Iterable[Carried]) -> dict[str, str]:
    """Give each theme that took a reviewed theme's id the net reviewers put that theme in; returns theme id
    -> net label, the named nets ``add_nets`` keeps (``CARRIED_NETS``)."""
    reviewed: dict[str, tuple[str, str]] = {}
    for c in carried:
        reviewed.update({theme_id: net for (theme_id, _), net in zip(c.themes, c.nets, strict=False)})
    named: dict[str, str] = {}
    for theme in themes:
        if theme.theme_id in reviewed:
            theme.net_id, theme.net_label = reviewed[theme.theme_id]
            named[theme.theme_id] = theme.net_label
    return named
