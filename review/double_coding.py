"""Double coding: the same units given to two reviewers who code them blind to each other.

As professional coding teams and annotation tools do, a sample of a run's units is coded twice, by two
reviewers who see neither the other's answer nor the machine's. Their codings are kept apart from the run's
corrections (``BlindCodingRow``): they must not overwrite each other, and nothing changes in the run until a
third reviewer settles a disagreement (``review.agreement``). A coding can be changed until the other
reviewer has coded the unit too: after that both answers are known, and they stay as given.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from pipeline.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from pipeline.messages import say
from pipeline.records import OTHER_ID
from review.corrections import OFF_TOPIC, load_state
from review.store import BlindCodingRow, DoubleCodingRow, Store, UnitRow, now
from review.users import can, user_role


def assign(store: Store, run_id: str, sample: int, reviewers: list[str], by: str, seed: int = 0) -> list[str]:
    """Give ``sample`` more units of the run to both ``reviewers``; the unit ids given, in the run's order.

    The sample is drawn at random within each theme (the unit's main theme now), in proportion to the theme's
    size, so that small themes are coded too; off-topic units and units already double-coded are left out,
    so running it again adds new units and none twice.
    """
    pair = _pair(store, reviewers)
    if sample < 1:
        raise InputError(say("double.sample"))
    state = load_state(store, run_id)
    with store.session() as session:
        taken = set(session.scalars(select(DoubleCodingRow.unit_id).where(DoubleCodingRow.run_id == run_id)))
    strata: dict[str, list[str]] = defaultdict(list)
    for unit_id, themes in state.labels.items():  # in the run's order
        if unit_id not in state.off_topic and unit_id not in taken:
            strata[themes[0] if themes else OTHER_ID].append(unit_id)
    chosen = set(stratified_sample(strata, sample, random.Random(seed)))
    units = [u for u in state.labels if u in chosen]
    with store.session() as session:
        session.add_all(DoubleCodingRow(run_id=run_id, unit_id=u, reviewer=r, assigned_by=by) for u in units for r in pair)
    return units


def _pair(store: Store, reviewers: list[str]) -> list[str]:
    """Two distinct reviewers who can sign in to code (a misspelt name would leave units nobody codes)."""
    pair = list(dict.fromkeys(" ".join(r.split()) for r in reviewers if r.strip()))
    if len(pair) != 2:
        raise InputError(say("double.pair"))
    for name in pair:
        role = user_role(store, name)
        if role is None:
            raise NotFoundError(say("double.unknown_user", name=name))
        if not can(role, "reviewer"):
            raise InputError(say("double.role", name=name, role=role))
    return pair


def stratified_sample(strata: dict[str, list[str]], size: int, rng: random.Random) -> list[str]:
    """``size`` items drawn at random within each stratum, in proportion to its size (largest remainders)."""
    total = sum(len(items) for items in strata.values())
    if size >= total:
        return [item for items in strata.values() for item in items]
    quotas = {name: size * len(items) / total for name, items in strata.items()}
    counts = {name: int(quota) for name, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda name: (counts[name] - quotas[name], name))
    for name in by_remainder[: size - sum(counts.values())]:
        counts[name] += 1
    return [item for name in sorted(strata) for item in rng.sample(strata[name], counts[name])]


@dataclass(frozen=True)
class CodingTask:
    """A unit given to a reviewer, with their own coding only (None until they code it)."""

    unit_id: str
    text: str
    themes: list[str] | None
    locked: bool  # the other reviewer has coded it too: the coding stays as given


def tasks(store: Store, run_id: str, reviewer: str) -> list[CodingTask]:
    """The units given to ``reviewer`` in the run, in the run's order; never another reviewer's coding."""
    with store.session() as session:
        store.run(session, run_id)
        rows = session.execute(
            select(UnitRow.unit_id, UnitRow.text)
            .join(DoubleCodingRow, (DoubleCodingRow.run_id == UnitRow.run_id) & (DoubleCodingRow.unit_id == UnitRow.unit_id))
            .where(DoubleCodingRow.run_id == run_id, DoubleCodingRow.reviewer == reviewer)
            .order_by(UnitRow.position)
        ).all()
        codings = blind_codings(session, run_id)
    mine = {u: themes for (u, r), themes in codings.items() if r == reviewer}
    coders = defaultdict(int)
    for unit_id, _ in codings:
        coders[unit_id] += 1
    return [CodingTask(u, text, mine.get(u), coders[u] >= 2) for u, text in rows]


def double_coded(session, run_id: str) -> dict[str, list[str]]:
    """Unit -> the reviewers it was given to, in alphabetical order (the first and second coder)."""
    given: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(DoubleCodingRow.unit_id, DoubleCodingRow.reviewer)
        .where(DoubleCodingRow.run_id == run_id)
        .order_by(DoubleCodingRow.reviewer)
    )
    for unit_id, reviewer in rows:
        given[unit_id].append(reviewer)
    return dict(given)


def blind_codings(session, run_id: str) -> dict[tuple[str, str], list[str]]:
    """(unit, reviewer) -> the themes that reviewer gave the unit, for every coding of the run."""
    rows = session.scalars(select(BlindCodingRow).where(BlindCodingRow.run_id == run_id))
    return {(row.unit_id, row.reviewer): list(row.themes) for row in rows}


def code(store: Store, run_id: str, unit_id: str, reviewer: str, themes: list[str]) -> list[str]:
    """Record ``reviewer``'s themes for a unit given to them (the main one first; ``["hors-sujet"]`` for
    off-topic); the themes as stored."""
    themes = checked_themes(store, run_id, themes)
    with store.session() as session:
        given = double_coded(session, run_id).get(unit_id, [])
        if reviewer not in given:
            raise ForbiddenError(say("double.not_given", unit=unit_id, reviewer=reviewer))
        codings = {r: row for r in given if (row := session.get(BlindCodingRow, (run_id, unit_id, r))) is not None}
        if len(codings) == len(given):
            raise ConflictError(say("double.both_coded", unit=unit_id))
        if reviewer in codings:
            codings[reviewer].themes, codings[reviewer].coded_at = themes, now()
        else:
            session.add(BlindCodingRow(run_id=run_id, unit_id=unit_id, reviewer=reviewer, themes=themes))
    return themes


def checked_themes(store: Store, run_id: str, themes: list[str]) -> list[str]:
    """A coding as given, without repeats, refused unless it names known themes or off-topic alone."""
    themes = list(dict.fromkeys(t for t in themes if t))
    if not themes:
        raise InputError(say("double.no_theme"))
    if OFF_TOPIC in themes and len(themes) > 1:
        raise InputError(say("double.off_topic_alone"))
    known = load_state(store, run_id).themes
    unknown = [t for t in themes if t != OFF_TOPIC and t not in known]
    if unknown:
        raise NotFoundError(f"thème inconnu dans l'analyse {run_id} : {', '.join(unknown)}")
    return themes
