"""Reviewers' corrections as append-only events, and the current state of a run derived from them.

A run's state is its machine assignments with every review event replayed in order, skipping undone
ones. Nothing is updated in place, so any correction can be audited (who, when, before, after) and
undone. Each event lists the units and themes it touched: a correction made on a view older than a
later event touching the same items is refused (``StaleViewError``) rather than silently overwriting
what another reviewer just did.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipeline.errors import ConflictError, InputError, NotFoundError
from review.store import AssignmentRow, EventRow, Run, Store, ThemeRow, UnitRow

ACTIONS = ("rename", "merge", "split", "move", "add", "off_topic", "confirm", "undo")
OFF_TOPIC = "hors-sujet"  # the label retraining learns for units a reviewer marked off-topic


class ReviewError(InputError):
    """A correction that cannot apply as asked; the message says what to change."""


class UnknownItemError(ReviewError, NotFoundError):
    """The correction names a theme or idea unit the run does not have."""


class StaleViewError(ReviewError, ConflictError):
    """The reviewer's view is older than a correction that touched the same items."""


@dataclass
class ThemeState:
    theme_id: str
    label: str
    keywords: list[str]
    from_codebook: bool = False
    proposed: bool = False
    origin: str = "machine"  # or "review": created by a split or a move to a new theme


@dataclass
class RunState:
    """A run as reviewers see it now."""

    run_id: str
    version: int = 0  # seq of the last event
    themes: dict[str, ThemeState] = field(default_factory=dict)  # active themes only
    labels: dict[str, list[str]] = field(default_factory=dict)  # unit -> theme ids, first is primary
    off_topic: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)  # units a reviewer set or confirmed one by one
    merged_into: dict[str, str] = field(default_factory=dict)

    def members(self, theme_id: str) -> list[str]:
        return [u for u, themes in self.labels.items() if theme_id in themes]

    def resolve(self, theme_id: str | None) -> str | None:
        """A theme id after the merges since it was read (the queue's runner-up may have been merged)."""
        while theme_id in self.merged_into:
            theme_id = self.merged_into[theme_id]
        return theme_id

    def snapshot(self, keys: list[str]) -> dict[str, object]:
        shot: dict[str, object] = {}
        for key in keys:
            kind, ident = key.split(":", 1)
            if kind == "unit":
                shot[key] = {"themes": list(self.labels.get(ident, [])), "off_topic": ident in self.off_topic}
            else:
                theme = self.themes.get(ident)
                shot[key] = {"label": theme.label} if theme else {"merged_into": self.merged_into.get(ident)}
        return shot


def _replace(themes: list[str], old: str, new: str) -> list[str]:
    out: list[str] = []
    for t in themes:
        t = new if t == old else t
        if t not in out:
            out.append(t)
    return out


def _apply(state: RunState, action: str, p: dict) -> None:
    """The state transition of one event; used both to replay history and to apply a new correction."""
    if action == "rename":
        state.themes[p["theme"]].label = p["label"]
    elif action == "merge":
        for source in p["sources"]:
            for unit, themes in state.labels.items():
                if source in themes:
                    state.labels[unit] = _replace(themes, source, p["target"])
            state.themes.pop(source)
            state.merged_into[source] = p["target"]
    elif action == "split":
        state.themes[p["new_theme"]] = ThemeState(p["new_theme"], p["label"], [], origin="review")
        for unit in p["units"]:
            state.labels[unit] = _replace(state.labels[unit], p["theme"], p["new_theme"])
    elif action == "move":
        if p.get("label"):
            state.themes[p["to"]] = ThemeState(p["to"], p["label"], [], origin="review")
        unit, current = p["unit"], state.labels.get(p["unit"], [])
        state.off_topic.discard(unit)
        state.labels[unit] = _replace(current, p["from"], p["to"]) if p.get("from") in current else [p["to"], *current]
        state.reviewed.add(unit)
    elif action == "add":
        state.labels[p["unit"]] = [*state.labels[p["unit"]], p["theme"]]
        state.reviewed.add(p["unit"])
    elif action == "off_topic":
        state.off_topic.add(p["unit"])
        state.labels[p["unit"]] = []
        state.reviewed.add(p["unit"])
    elif action == "confirm":
        state.reviewed.add(p["unit"])


def _machine_state(session, run_id: str) -> RunState:
    state = RunState(run_id)
    for row in session.scalars(select(ThemeRow).where(ThemeRow.run_id == run_id)):
        state.themes[row.theme_id] = ThemeState(row.theme_id, row.label, row.keywords, row.from_codebook, row.proposed)
    labels: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in session.scalars(select(AssignmentRow).where(AssignmentRow.run_id == run_id)):
        labels[row.unit_id].append((-row.score, row.theme_id))
    for unit_id in session.scalars(select(UnitRow.unit_id).where(UnitRow.run_id == run_id).order_by(UnitRow.position)):
        state.labels[unit_id] = [theme for _, theme in sorted(labels.get(unit_id, []))]
    return state


def _events(session, run_id: str) -> list[EventRow]:
    return list(session.scalars(select(EventRow).where(EventRow.run_id == run_id).order_by(EventRow.seq)))


def _replay(state: RunState, events: list[EventRow]) -> RunState:
    undone = {e.payload["event"] for e in events if e.action == "undo"}
    for e in events:
        if e.action != "undo" and e.seq not in undone:
            _apply(state, e.action, e.payload)
        state.version = e.seq
    return state


def load_state(store: Store, run_id: str) -> RunState:
    with store.session() as session:
        store.run(session, run_id)
        return _replay(_machine_state(session, run_id), _events(session, run_id))


def history(store: Store, run_id: str) -> list[EventRow]:
    with store.session() as session:
        store.run(session, run_id)
        return _events(session, run_id)


def _new_theme_id(state: RunState, label: str) -> str:
    base = "r-" + hashlib.sha1(f"{state.run_id}:{label.casefold()}".encode()).hexdigest()[:8]
    theme_id, n = base, 1
    while theme_id in state.themes or theme_id in state.merged_into:
        n += 1
        theme_id = f"{base}-{n}"
    return theme_id


def _theme(state: RunState, theme_id: str) -> str:
    if theme_id in state.themes:
        return theme_id
    if theme_id in state.merged_into:
        raise ReviewError(f"theme '{theme_id}' was merged into '{state.resolve(theme_id)}': use that one")
    raise UnknownItemError(f"unknown theme '{theme_id}' in run {state.run_id}: see `verbatims review show {state.run_id}`")


def _unit(state: RunState, unit_id: str) -> str:
    if unit_id not in state.labels:
        raise UnknownItemError(f"unknown idea unit '{unit_id}' in run {state.run_id} (unit ids are in assignments.csv)")
    return unit_id


def _label(label: str | None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ReviewError("a theme label cannot be empty")
    if len(label) > 200:
        raise ReviewError("a theme label must be under 200 characters")
    return label


def _prepare(state: RunState, action: str, p: dict, events: list[EventRow]) -> tuple[dict, list[str]]:
    """Check a correction against the current state; return its full payload and the keys it touches."""
    if action == "rename":
        theme, label = _theme(state, p["theme"]), _label(p["label"])
        if state.themes[theme].label == label:
            raise ReviewError(f"theme '{theme}' is already called '{label}'")
        return {"theme": theme, "label": label}, [f"theme:{theme}"]
    if action == "merge":
        target = _theme(state, p["target"])
        sources = list(dict.fromkeys(_theme(state, s) for s in p["sources"]))
        if not sources or target in sources:
            raise ReviewError("merge needs one or more themes to merge into a different target theme")
        return {"sources": sources, "target": target}, [f"theme:{t}" for t in [*sources, target]]
    if action == "split":
        theme, label = _theme(state, p["theme"]), _label(p["label"])
        units = list(dict.fromkeys(_unit(state, u) for u in p["units"]))
        outside = [u for u in units if theme not in state.labels[u]]
        if not units or outside:
            raise ReviewError(f"split moves units of theme '{theme}'; not in it: {', '.join(outside) or 'none given'}")
        if len(units) == len(state.members(theme)):
            raise ReviewError("split cannot move every unit of a theme: rename the theme instead")
        new = _new_theme_id(state, label)
        return {"theme": theme, "units": units, "new_theme": new, "label": label}, [
            f"theme:{theme}",
            *(f"unit:{u}" for u in units),
        ]
    if action == "move":
        unit = _unit(state, p["unit"])
        current = state.labels[unit]
        source = p.get("from") or (current[0] if current else None)
        if source is not None and source not in current:
            raise ReviewError(f"unit '{unit}' is not in theme '{source}' (it is in: {', '.join(current) or 'none'})")
        if p.get("label"):
            label = _label(p["label"])
            payload = {"unit": unit, "from": source, "to": _new_theme_id(state, label), "label": label}
        else:
            to = _theme(state, p["to"])
            if to == source:
                raise ReviewError(f"unit '{unit}' is already in theme '{to}'")
            payload = {"unit": unit, "from": source, "to": to}
        return payload, [f"unit:{unit}"]
    if action == "add":
        unit, theme = _unit(state, p["unit"]), _theme(state, p["theme"])
        if unit in state.off_topic:
            raise ReviewError(f"unit '{unit}' is marked off-topic: move it to a theme first")
        if theme in state.labels[unit]:
            raise ReviewError(f"unit '{unit}' is already in theme '{theme}'")
        return {"unit": unit, "theme": theme}, [f"unit:{unit}"]
    if action in ("off_topic", "confirm"):
        unit = _unit(state, p["unit"])
        if action == "off_topic" and unit in state.off_topic:
            raise ReviewError(f"unit '{unit}' is already marked off-topic")
        return {"unit": unit}, [f"unit:{unit}"]
    if action == "undo":
        return _prepare_undo(state, p, events)
    raise ReviewError(f"unknown correction '{action}'; one of: {', '.join(ACTIONS)}")


def _prepare_undo(state: RunState, p: dict, events: list[EventRow]) -> tuple[dict, list[str]]:
    undone = {e.payload["event"] for e in events if e.action == "undo"}
    mine = [e for e in events if e.action != "undo" and e.seq not in undone]
    if p.get("event") is None:  # the reviewer's own last correction still in force
        mine = [e for e in mine if e.reviewer == p["reviewer"]]
        if not mine:
            raise ReviewError(f"nothing of {p['reviewer']}'s to undo in run {state.run_id}")
        target = mine[-1]
    else:
        target = next((e for e in events if e.seq == int(p["event"])), None)
        if target is None:
            raise ReviewError(f"no correction #{p['event']} in run {state.run_id}: see `verbatims review history`")
        if target.action == "undo":
            raise ReviewError(f"#{target.seq} is itself an undo: make the correction again instead")
        if target.seq in undone:
            raise ReviewError(f"correction #{target.seq} is already undone")
    later = [e for e in events if e.seq > target.seq and e.seq not in undone and set(e.touched) & set(target.touched)]
    if later:
        raise ReviewError(
            f"cannot undo #{target.seq}: the same items were changed since by "
            + ", ".join(f"#{e.seq} ({e.action} by {e.reviewer})" for e in later)
            + "; undo those first"
        )
    return {"event": target.seq}, list(target.touched)


def correct(store: Store, run_id: str, reviewer: str, action: str, seen: int | None = None, **payload) -> EventRow:
    """Record one correction and return its event.

    ``seen`` is the run version the reviewer's view showed; None means "the current one" (a command that
    reads and writes at once). A later event touching the same items makes the correction stale.
    Another reviewer's correction saved at the same instant is not a conflict unless it touched the
    same items: the correction is checked again against it and saved after it.
    """
    reviewer = " ".join((reviewer or "").split())
    if not reviewer:
        raise ReviewError("say who is reviewing (--reviewer or VERBATIMS_REVIEWER)")
    for _ in range(5):
        try:
            return _correct_once(store, run_id, reviewer, action, seen, dict(payload))
        except IntegrityError:  # lost the race for the next seq despite the lock: re-read and try again
            continue
    raise StaleViewError(f"run {run_id} is being corrected by others right now: reload and try again")


def _correct_once(store: Store, run_id: str, reviewer: str, action: str, seen: int | None, payload: dict) -> EventRow:
    with store.session() as session:
        store.run(session, run_id)
        # corrections to one run queue up here (a row lock on PostgreSQL; SQLite already holds its write lock)
        session.execute(select(Run.run_id).where(Run.run_id == run_id).with_for_update())
        events = _events(session, run_id)
        state = _replay(_machine_state(session, run_id), events)
        if action == "undo":
            payload["reviewer"] = reviewer
        full, touched = _prepare(state, action, payload, events)
        if seen is not None:
            _check_fresh(events, int(seen), touched)
        before = state.snapshot(touched)
        if action == "undo":
            undone = {e.payload["event"] for e in events if e.action == "undo"} | {full["event"]}
            state = _replay(_machine_state(session, run_id), [e for e in events if e.seq not in undone])
        else:
            _apply(state, action, full)
        row = EventRow(
            run_id=run_id,
            seq=(events[-1].seq if events else 0) + 1,
            reviewer=reviewer,
            action=action,
            payload=full,
            before=before,
            after=state.snapshot(touched),
            touched=touched,
        )
        session.add(row)
        return row


def _check_fresh(events: list[EventRow], seen: int, touched: list[str]) -> None:
    if seen > (events[-1].seq if events else 0):
        raise ReviewError(f"version {seen} does not exist yet for this run")
    newer = [e for e in events if e.seq > seen and set(e.touched) & set(touched)]
    if newer:
        e = newer[-1]
        items = ", ".join(sorted(set(e.touched) & set(touched)))
        raise StaleViewError(
            f"your view (version {seen}) is out of date: {e.reviewer} changed {items} at "
            f"{e.at:%H:%M:%S} (#{e.seq}, {e.action}). Reload (now version {events[-1].seq}) and try again."
        )
