"""Confirm the machine's themes for one unit: it then counts as reviewed for retraining."""

from __future__ import annotations

from review.actions.checks import UnitPayload, one_unit
from review.actions.registry import Checked, Context, ReviewAction, register
from review.actions.state import RunState


@register("confirm")
class Confirm(ReviewAction[UnitPayload]):
    Payload = UnitPayload

    def check(self, state: RunState, payload: UnitPayload, context: Context) -> Checked:
        return one_unit(state, payload)

    def apply(self, state: RunState, payload: dict) -> None:
        state.reviewed.add(payload["unit"])
