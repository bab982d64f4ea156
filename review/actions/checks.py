"""Checks and small transitions several review actions share: a theme or unit the run knows, a usable
label, a fresh theme id, a theme swapped for another in a unit's list."""

from __future__ import annotations

import hashlib

from pydantic import Field

from pipeline.messages import say
from pipeline.records import OTHER_ID
from review.actions.registry import Checked, Payload
from review.actions.state import ReviewError, RunState, UnknownItemError


class UnitPayload(Payload):
    unit: str = Field(description="Idea unit id (as in assignments.csv)")


def one_unit(state: RunState, payload: UnitPayload) -> Checked:
    """The check and event of an action on one known unit and nothing else."""
    unit = known_unit(state, payload.unit)
    return Checked({"unit": unit}, [f"unit:{unit}"])


def known_theme(state: RunState, theme_id: str) -> str:
    if theme_id in state.themes:
        return theme_id
    if theme_id in state.merged_into:
        target = state.themes[state.resolve(theme_id)].label
        raise ReviewError(say("review.merged_theme", theme=theme_id, target=target))
    raise UnknownItemError(say("review.unknown_theme", theme=theme_id, run_id=state.run_id))


def theme_label(state: RunState, theme_id: str) -> str:
    """How a refusal names a known theme: by the label reviewers see."""
    return state.themes[theme_id].label


def known_unit(state: RunState, unit_id: str) -> str:
    if unit_id not in state.labels:
        raise UnknownItemError(say("review.unknown_unit", unit=unit_id, run_id=state.run_id))
    return unit_id


def clean_label(label: str | None, what: str = "theme") -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ReviewError(say("review.label_empty", of=say(f"review.of_{what}")))
    if len(label) > 200:
        raise ReviewError(say("review.label_long", of=say(f"review.of_{what}")))
    return label


def known_net(state: RunState, net_id: str) -> str:
    if net_id in state.nets():
        return net_id
    raise UnknownItemError(say("review.unknown_net", net=net_id, run_id=state.run_id))


def netted_theme(state: RunState, theme_id: str) -> str:
    """A known theme that can change nets: "Autres" (what fits no theme) stays alone."""
    theme_id = known_theme(state, theme_id)
    if theme_id == OTHER_ID:
        raise ReviewError(say("review.other_alone", other=theme_label(state, OTHER_ID)))
    return theme_id


def new_net_id(state: RunState, label: str, taken: set[str] = frozenset()) -> str:
    """A net id derived from the run and label, as ``new_theme_id``; never a net or theme id in use (nor one
    of ``taken``)."""
    base = "rn-" + hashlib.sha1(f"{state.run_id}:{label.casefold()}".encode()).hexdigest()[:8]
    taken = {*taken, *state.nets(), *state.themes, *state.merged_into}
    net_id, n = base, 1
    while net_id in taken:
        n += 1
        net_id = f"{base}-{n}"
    return net_id


def net_keys(state: RunState, theme_ids: list[str]) -> list[str]:
    """The stale-view keys of themes and the nets they are in now."""
    nets = dict.fromkeys(state.net_of(t)[0] for t in theme_ids)
    return [*(f"theme:{t}" for t in theme_ids), *(f"net:{n}" for n in nets)]


def new_theme_id(state: RunState, label: str) -> str:
    """A theme id derived from the run and label, so the same correction made again gets the same id."""
    base = "r-" + hashlib.sha1(f"{state.run_id}:{label.casefold()}".encode()).hexdigest()[:8]
    theme_id, n = base, 1
    while theme_id in state.themes or theme_id in state.merged_into:
        n += 1
        theme_id = f"{base}-{n}"
    return theme_id


def replace_theme(themes: list[str], old: str, new: str) -> list[str]:
    """``themes`` with ``old`` swapped for ``new`` in place (keeping the primary first), without duplicates."""
    out: list[str] = []
    for t in themes:
        t = new if t == old else t
        if t not in out:
            out.append(t)
    return out
