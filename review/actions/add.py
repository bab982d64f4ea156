"""Give one unit a further theme (an idea can belong to two themes)."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import UnitPayload, known_theme, known_unit, theme_label
from review.actions.registry import Checked, Context, ReviewAction, register
from review.actions.state import ReviewError, RunState


class AddPayload(UnitPayload):
    theme: str = Field(description="Theme id the unit also gets")


@register("add")
class Add(ReviewAction[AddPayload]):
    Payload = AddPayload

    def check(self, state: RunState, payload: AddPayload, context: Context) -> Checked:
        unit, theme = known_unit(state, payload.unit), known_theme(state, payload.theme)
        if unit in state.off_topic:
            raise ReviewError(say("review.off_topic_first", unit=unit))
        if theme in state.labels[unit]:
            raise ReviewError(say("review.already_in_theme", unit=unit, theme=theme_label(state, theme)))
        return Checked({"unit": unit, "theme": theme}, [f"unit:{unit}"])

    def apply(self, state: RunState, payload: dict) -> None:
        state.labels[payload["unit"]] = [*state.labels[payload["unit"]], payload["theme"]]
        state.reviewed.add(payload["unit"])
