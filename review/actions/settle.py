"""Settle a unit two coders disagreed on: a third reviewer gives its themes (or marks it off-topic).

The themes replace the unit's own, so the unit counts as reviewed for retraining, and the event can be
undone like any correction. Who may settle which unit is ``review.agreement.settle``'s business: it knows
who coded the unit blind.
"""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import UnitPayload, known_theme, known_unit
from review.actions.registry import Checked, Context, ReviewAction, register
from review.actions.state import ReviewError, RunState


class SettlePayload(UnitPayload):
    themes: list[str] = Field(default_factory=list, description="Theme ids the unit gets, the main one first")
    off_topic: bool = Field(False, description="The unit is off-topic (then no theme)")


@register("settle")
class Settle(ReviewAction[SettlePayload]):
    Payload = SettlePayload

    def check(self, state: RunState, payload: SettlePayload, context: Context) -> Checked:
        unit = known_unit(state, payload.unit)
        if payload.off_topic == bool(payload.themes):
            raise ReviewError(say("review.settle_either"))
        themes = list(dict.fromkeys(known_theme(state, t) for t in payload.themes))
        return Checked({"unit": unit, "themes": themes, "off_topic": payload.off_topic}, [f"unit:{unit}"])

    def apply(self, state: RunState, payload: dict) -> None:
        unit = payload["unit"]
        if payload["off_topic"]:
            state.off_topic.add(unit)
        else:
            state.off_topic.discard(unit)
        state.labels[unit] = list(payload["themes"])
        state.reviewed.add(unit)
