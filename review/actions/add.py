"""Give one unit a further theme (an idea can belong to two themes)."""

from __future__ import annotations

from pydantic import Field

from review.actions.checks import UnitPayload, known_theme, known_unit
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
            raise ReviewError(f"unit '{unit}' is marked off-topic: move it to a theme first")
        if theme in state.labels[unit]:
            raise ReviewError(f"unit '{unit}' is already in theme '{theme}'")
        return Checked({"unit": unit, "theme": theme}, [f"unit:{unit}"])

    def apply(self, state: RunState, payload: dict) -> None:
        state.labels[payload["unit"]] = [*state.labels[payload["unit"]], payload["theme"]]
        state.reviewed.add(payload["unit"])
