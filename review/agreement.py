"""How far two coders agree, and how far the machine agrees with each: the agreement report, and settling.

Reviewers' codings are multi-label (a unit may carry several themes, the main one first). Alpha and kappa
are computed twice over: on the main theme (one nominal value per unit: a theme, or off-topic), and for each
theme on its presence or absence. Only units both coders have coded count. The machine is its own first
assignment (its top-scoring theme), read against each reviewer on the same units: a model should agree
with reviewers as well as two people agree with each other.

A disagreement is settled by a third reviewer, as a ``settle`` correction of the run: audited, undoable,
and the unit counts as reviewed for retraining.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from pipeline.errors import ConflictError, ForbiddenError
from pipeline.messages import say
from pipeline.records import OTHER_ID
from review.actions import RunState, undone
from review.corrections import OFF_TOPIC, correct, history, load_state
from review.double_coding import blind_codings, checked_themes, double_coded
from review.reliability import cohen_kappa, krippendorff_alpha, observed_agreement
from review.store import AssignmentRow, EventRow, Store, UnitRow

OFF_TOPIC_LABEL = "Hors sujet"


@dataclass(frozen=True)
class ThemeAgreement:
    """Two coders on one theme's presence: how many units each gave it, kappa and alpha (binary)."""

    theme_id: str
    label: str
    counts: tuple[int, int]
    kappa: float | None
    alpha: float | None


@dataclass(frozen=True)
class MachineAgreement:
    """The machine's main theme against one reviewer's, on the units both coders coded."""

    reviewer: str
    units: int
    kappa: float | None
    agreement: float | None  # share of units with the same main theme


@dataclass(frozen=True)
class Disagreement:
    unit_id: str
    text: str
    codings: dict[str, list[str]]  # reviewer -> theme ids, main first
    settled_by: str | None
    settled_themes: list[str]  # the unit's themes now, once settled

    @property
    def settled(self) -> bool:
        return self.settled_by is not None


@dataclass
class AgreementReport:
    run_id: str
    version: int  # the run's version it was read at: a settle form sends it back (stale-view check)
    reviewers: list[str]  # "first" and "second" coder of each unit: in this (alphabetical) order
    assigned: int  # units given to two coders
    coded: dict[str, int]  # reviewer -> units coded
    both: int  # units coded by both: the ones the figures are computed on
    alpha: float | None  # main theme, nominal
    kappa: float | None
    agreement: float | None
    themes: list[ThemeAgreement]
    machine: list[MachineAgreement]
    disagreements: list[Disagreement]
    labels: dict[str, str]

    @property
    def settled(self) -> int:
        return sum(d.settled for d in self.disagreements)

    @property
    def machine_at_par(self) -> bool | None:
        """Whether the machine agrees with each reviewer at least as well as the reviewers agree together."""
        kappas = [m.kappa for m in self.machine]
        if self.kappa is None or not kappas or None in kappas:
            return None
        return min(kappas) >= self.kappa


@dataclass(frozen=True)
class _Coded:
    """A unit both coders coded: their themes, resolved through the merges since."""

    unit_id: str
    first: str
    second: str
    themes: tuple[list[str], list[str]]

    @property
    def mains(self) -> tuple[str, str]:
        return self.themes[0][0], self.themes[1][0]

    @property
    def differ(self) -> bool:
        a, b = self.themes
        return a[0] != b[0] or set(a) != set(b)


def agreement(store: Store, run_id: str) -> AgreementReport:
    """The run's double coding as it stands: figures on the units both coders coded, and their disagreements."""
    state = load_state(store, run_id)
    with store.session() as session:
        given = double_coded(session, run_id)
        codings = blind_codings(session, run_id)
        texts = dict(
            session.execute(
                select(UnitRow.unit_id, UnitRow.text).where(UnitRow.run_id == run_id).order_by(UnitRow.position)
            ).all()
        )
        machine = _machine_mains(session, run_id, state)
    both = [c for u in texts if u in given and (c := _coded(state, u, given[u], codings)) is not None]  # run's order
    mains = [c.mains for c in both]
    firsts, seconds = [a for a, _ in mains], [b for _, b in mains]
    settled = settlements(store, run_id)
    coded: dict[str, int] = defaultdict(int)
    for _, reviewer in codings:
        coded[reviewer] += 1
    labels = {**{t: s.label for t, s in state.themes.items()}, OFF_TOPIC: OFF_TOPIC_LABEL}
    return AgreementReport(
        run_id=run_id,
        version=state.version,
        reviewers=sorted({r for pair in given.values() for r in pair}),
        assigned=len(given),
        coded=dict(coded),
        both=len(both),
        alpha=krippendorff_alpha(mains),
        kappa=cohen_kappa(firsts, seconds),
        agreement=observed_agreement(firsts, seconds),
        themes=_theme_agreements(both, labels),
        machine=_machine_agreements(both, machine),
        disagreements=[_disagreement(c, texts[c.unit_id], settled, state) for c in both if c.differ],
        labels=labels,
    )


def _coded(state: RunState, unit_id: str, pair: list[str], codings: dict[tuple[str, str], list[str]]) -> _Coded | None:
    """The unit's two codings, or None until both coders have coded it."""
    if len(pair) != 2 or any((unit_id, r) not in codings for r in pair):
        return None
    resolved = [list(dict.fromkeys(state.resolve(t) for t in codings[unit_id, r])) for r in pair]
    return _Coded(unit_id, pair[0], pair[1], (resolved[0], resolved[1]))


def _machine_mains(session, run_id: str, state: RunState) -> dict[str, str]:
    """Each unit's top-scoring theme as the machine assigned it (merged themes followed), "autres" without one."""
    mains: dict[str, str] = {}
    rows = session.scalars(select(AssignmentRow).where(AssignmentRow.run_id == run_id).order_by(AssignmentRow.score.desc()))
    for row in rows:
        mains.setdefault(row.unit_id, state.resolve(row.theme_id))
    return defaultdict(lambda: OTHER_ID, mains)


def _theme_agreements(both: list[_Coded], labels: dict[str, str]) -> list[ThemeAgreement]:
    used: dict[str, int] = defaultdict(int)
    for c in both:
        for theme_id in {*c.themes[0], *c.themes[1]}:
            used[theme_id] += 1
    out = []
    for theme_id in sorted(used, key=lambda t: (-used[t], labels.get(t, t))):
        first = [theme_id in c.themes[0] for c in both]
        second = [theme_id in c.themes[1] for c in both]
        out.append(
            ThemeAgreement(
                theme_id,
                labels.get(theme_id, theme_id),
                (sum(first), sum(second)),
                cohen_kappa(first, second),
                krippendorff_alpha(list(zip(first, second, strict=True))),
            )
        )
    return out


def _machine_agreements(both: list[_Coded], machine: dict[str, str]) -> list[MachineAgreement]:
    theirs: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for c in both:
        for reviewer, main in zip((c.first, c.second), c.mains, strict=True):
            theirs[reviewer][0].append(machine[c.unit_id])
            theirs[reviewer][1].append(main)
    return [
        MachineAgreement(r, len(ours), cohen_kappa(ours, mains), observed_agreement(ours, mains))
        for r, (ours, mains) in sorted(theirs.items())
    ]


def _disagreement(c: _Coded, text: str, settled: dict[str, EventRow], state: RunState) -> Disagreement:
    event = settled.get(c.unit_id)
    codings = {c.first: c.themes[0], c.second: c.themes[1]}
    if event is None:
        return Disagreement(c.unit_id, text, codings, None, [])
    now = [OFF_TOPIC] if c.unit_id in state.off_topic else list(state.labels.get(c.unit_id, []))
    return Disagreement(c.unit_id, text, codings, event.reviewer, now)


def settlements(store: Store, run_id: str) -> dict[str, EventRow]:
    """Unit -> the ``settle`` correction in force for it (an undone one does not count)."""
    events = history(store, run_id)
    cancelled = undone(events)
    return {e.payload["unit"]: e for e in events if e.action == "settle" and e.seq not in cancelled}


def settle(store: Store, run_id: str, unit_id: str, reviewer: str, themes: list[str], seen: int | None = None) -> EventRow:
    """A third reviewer's themes for a unit the two coders disagreed on (``["hors-sujet"]``: off-topic).

    ``seen`` is the run version the reviewer's page showed, as for any correction (None: the current one).
    """
    state = load_state(store, run_id)
    with store.session() as session:
        pair = double_coded(session, run_id).get(unit_id, [])
        coded = _coded(state, unit_id, pair, blind_codings(session, run_id))
    if coded is None:
        raise ConflictError(say("settle.not_double", unit=unit_id))
    if reviewer in pair:
        raise ForbiddenError(say("settle.third", reviewer=reviewer, unit=unit_id))
    if not coded.differ:
        raise ConflictError(say("settle.agree", unit=unit_id))
    if (earlier := settlements(store, run_id).get(unit_id)) is not None:
        raise ConflictError(say("settle.done", unit=unit_id, reviewer=earlier.reviewer, seq=earlier.seq))
    themes = checked_themes(store, run_id, themes)
    if themes == [OFF_TOPIC]:
        return correct(store, run_id, reviewer, "settle", seen, unit=unit_id, off_topic=True)
    return correct(store, run_id, reviewer, "settle", seen, unit=unit_id, themes=themes)
