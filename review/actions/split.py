"""Split some units of a theme off into a new theme."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import clean_label, known_theme, known_unit, new_theme_id, replace_theme, theme_label
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState, ThemeState


class SplitPayload(Payload):
    theme: str = Field(description="Theme id to split")
    units: list[str] = Field(description="Idea unit ids of that theme that move to the new theme")
    label: str = Field(description="Label of the new theme")


@register("split")
class Split(ReviewAction[SplitPayload]):
    Payload = SplitPayload

    def check(self, state: RunState, payload: SplitPayload, context: Context) -> Checked:
        theme, label = known_theme(state, payload.theme), clean_label(payload.label)
        units = list(dict.fromkeys(known_unit(state, u) for u in payload.units))
        outside = [u for u in units if theme not in state.labels[u]]
        if not units or outside:
            outside_named = ", ".join(outside) or say("review.split_none")
            raise ReviewError(say("review.split_outside", theme=theme_label(state, theme), outside=outside_named))
        if len(units) == len(state.members(theme)):
            raise ReviewError(say("review.split_all"))
        new = new_theme_id(state, label)
        stored = {"theme": theme, "units": units, "new_theme": new, "label": label}
        return Checked(stored, [f"theme:{theme}", *(f"unit:{u}" for u in units)])

    def apply(self, state: RunState, payload: dict) -> None:
        new = payload["new_theme"]
        net_id, net_label = state.net_of(payload["theme"])  # the new theme stays in its source's net
        state.themes[new] = ThemeState(new, payload["label"], [], origin="review", net_id=net_id, net_label=net_label)
        for unit in payload["units"]:
            state.labels[unit] = replace_theme(state.labels[unit], payload["theme"], new)
