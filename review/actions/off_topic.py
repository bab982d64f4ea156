"""Mark one unit off-topic: it leaves every theme (retraining learns it as off-topic)."""

from __future__ import annotations

from pipeline.messages import say
from review.actions.checks import UnitPayload, one_unit
from review.actions.registry import Checked, Context, ReviewAction, register
from review.actions.state import ReviewError, RunState


@register("off_topic")
class OffTopic(ReviewAction[UnitPayload]):
    Payload = UnitPayload

    def check(self, state: RunState, payload: UnitPayload, context: Context) -> Checked:
        checked = one_unit(state, payload)
        if payload.unit in state.off_topic:
            raise ReviewError(say("review.already_off_topic", unit=payload.unit))
        return checked

    def apply(self, state: RunState, payload: dict) -> None:
        state.off_topic.add(payload["unit"])
        state.labels[payload["unit"]] = []
        state.reviewed.add(payload["unit"])
