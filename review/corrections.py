"""Reviewers' corrections as append-only events, and the current state of a run derived from them.

A run's state is its machine assignments with every review event replayed in order, skipping undone
ones. Nothing is updated in place, so any correction can be audited (who, when, before, after) and
undone. Each event lists the units and themes it touched: a correction made on a view older than a
later event touching the same items is refused (``StaleViewError``) rather than silently overwriting
what another reviewer just did. What each action takes, checks and changes is in ``review.actions``,
looked up by name here both to record a correction and to replay history.
"""

from __future__ import annotations

import copy
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipeline.messages import say
from review.actions import (
    ACTIONS,
    Context,
    ReviewAction,
    ReviewError,
    RunState,
    StaleViewError,
    ThemeState,
    UnknownItemError,
    action_named,
    undone,
)
from review.store import AssignmentRow, EventRow, Run, Store, ThemeRow, UnitRow

# Names importers read from here; the errors and states live beside the actions (which must not import this)
__all__ = [
    "ACTIONS",
    "OFF_TOPIC",
    "ReviewError",
    "RunState",
    "StaleViewError",
    "ThemeState",
    "UnknownItemError",
    "correct",
    "history",
    "load_state",
]
OFF_TOPIC = "hors-sujet"  # the label retraining learns for units a reviewer marked off-topic


def _machine_state(session, run_id: str) -> RunState:
    state = RunState(run_id)
    for row in session.scalars(select(ThemeRow).where(ThemeRow.run_id == run_id)):
        state.themes[row.theme_id] = ThemeState(
            row.theme_id,
            row.label,
            row.keywords,
            row.from_codebook,
            row.proposed,
            row.coherence,
            row.mixed,
            net_id=row.net_id or "",
            net_label=row.net_label or "",
        )
    labels: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in session.scalars(select(AssignmentRow).where(AssignmentRow.run_id == run_id)):
        labels[row.unit_id].append((-row.score, row.theme_id))
    for unit_id in session.scalars(select(UnitRow.unit_id).where(UnitRow.run_id == run_id).order_by(UnitRow.position)):
        state.labels[unit_id] = [theme for _, theme in sorted(labels.get(unit_id, []))]
    return state


def _events(session, run_id: str) -> list[EventRow]:
    return list(session.scalars(select(EventRow).where(EventRow.run_id == run_id).order_by(EventRow.seq)))


def _replay(state: RunState, events: list[EventRow]) -> RunState:
    cancelled = undone(events)
    for e in events:
        if e.seq not in cancelled:
            action_named(e.action).apply(state, e.payload)
        state.version = e.seq
    return state


def load_state(store: Store, run_id: str) -> RunState:
    with store.reading() as session:  # a page's read waits for no writer (and takes no lock on SQLite)
        store.run(session, run_id)
        return _replay(_machine_state(session, run_id), _events(session, run_id))


def history(store: Store, run_id: str) -> list[EventRow]:
    with store.session() as session:
        store.run(session, run_id)
        return _events(session, run_id)


def correct(store: Store, run_id: str, reviewer: str, action: str, seen: int | None = None, **payload) -> EventRow:
    """Record one correction and return its event.

    ``seen`` is the run version the reviewer's view showed; None means "the current one" (a CLI command
    reads and writes at once; the web's writes must say it). A later event touching the same items makes the
    correction stale.
    Another reviewer's correction saved at the same instant is not a conflict unless it touched the
    same items: the correction is checked again against it and saved after it.
    """
    reviewer = " ".join((reviewer or "").split())
    if not reviewer:
        raise ReviewError(say("review.who"))
    for _ in range(5):
        try:
            return _correct_once(store, run_id, reviewer, action, seen, dict(payload))
        except IntegrityError:  # lost the race for the next seq despite the lock: re-read and try again
            continue
    raise StaleViewError(say("correction.busy", run_id=run_id))


def _correct_once(store: Store, run_id: str, reviewer: str, name: str, seen: int | None, payload: dict) -> EventRow:
    with store.session() as session:
        store.run(session, run_id)
        action = action_named(name)
        given = action.validate(payload)
        # corrections to one run queue up here (a row lock on PostgreSQL; SQLite already holds its write lock)
        session.execute(select(Run.run_id).where(Run.run_id == run_id).with_for_update())
        events = _events(session, run_id)
        machine = _machine_state(session, run_id)
        if seen is not None:  # first as the reviewer saw it: a change since then is a stale view (409), not a 400
            _check_fresh_as_seen(machine, events, int(seen), action, given, reviewer)
        state = _replay(machine, events)
        full, touched = action.check(state, given, Context(events, reviewer))
        if seen is not None:
            _check_fresh(events, int(seen), touched)
        before = state.snapshot(touched)
        state = _effect(session, state, events, action, full)
        row = EventRow(
            run_id=run_id,
            seq=(events[-1].seq if events else 0) + 1,
            reviewer=reviewer,
            action=name,
            payload=full,
            before=before,
            after=state.snapshot(touched),
            touched=touched,
        )
        session.add(row)
        return row


def _effect(session, state: RunState, events: list[EventRow], action: ReviewAction, payload: dict) -> RunState:
    """The state once a new correction applies: its own transition, or for an undo the history without the
    event it cancels, replayed from the machine's assignments (later events may have built on it)."""
    cancelled = action.undoes(payload)
    if cancelled is None:
        action.apply(state, payload)
        return state
    return _replay(_machine_state(session, state.run_id), [e for e in events if e.seq != cancelled])


# What each action did, as the stale-view message tells a reviewer (an action missing here is named as is)
DONE = {
    "rename": "a renommé",
    "merge": "a fusionné",
    "split": "a scindé",
    "move": "a déplacé",
    "add": "a ajouté un thème à",
    "off_topic": "a marqué hors sujet",
    "confirm": "a confirmé",
    "rename_net": "a renommé",
    "move_to_net": "a changé de regroupement",
    "new_net": "a regroupé",
    "dissolve_net": "a défait",
    "undo": "a annulé une correction sur",
    "settle": "a tranché le désaccord sur",
    "bulk": "a corrigé en lot",
}
ITEM_NAMES = {"unit": "l'idée", "theme": "le thème", "net": "le regroupement"}


def _named(item: str) -> str:
    """A touched item ("unit:r12#2") as a reviewer reads it ("l'unité r12#2")."""
    kind, _, ident = item.partition(":")
    return f"{ITEM_NAMES.get(kind, kind)} {ident}"


def _check_fresh_as_seen(
    machine: RunState, events: list[EventRow], seen: int, action: ReviewAction, given: dict, reviewer: str
) -> None:
    """The correction checked on the state at version ``seen``: the items it touches there, changed by a later
    event, make a stale view. Checked on today's state only, a move of a unit another reviewer moved since answered
    "not in this theme" (400) where the reviewer needs "reload" (409); 17 of 1,082 writes in bench/concurrent_reviews."""
    shown = [e for e in events if e.seq <= seen]
    try:
        _, touched = action.check(_replay(copy.deepcopy(machine), shown), given, Context(shown, reviewer))
    except ReviewError:  # not valid on the reviewer's own view either: today's check says why
        return
    _check_fresh(events, seen, touched)


def _check_fresh(events: list[EventRow], seen: int, touched: list[str]) -> None:
    """Refuse a correction made on a view (version ``seen``) older than an event touching the same items; the
    message names who changed what, when, for the reviewer who must reload (pages and the CLI show it as is)."""
    current = events[-1].seq if events else 0
    if seen > current:
        raise ReviewError(f"la version {seen} n'existe pas encore pour cette analyse (version actuelle : {current})")
    newer = [e for e in events if e.seq > seen and set(e.touched) & set(touched)]
    if newer:
        e = newer[-1]
        items = sorted(set(e.touched) & set(touched))
        raise StaleViewError(
            f"Votre vue (version {seen}) n'est plus à jour : {e.reviewer} {DONE.get(e.action, e.action)} "
            f"{', '.join(map(_named, items))} à {e.at:%H:%M:%S} (version {e.seq}). "
            f"Rechargez (version actuelle : {current}) puis recommencez."
        )
