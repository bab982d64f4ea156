"""Move one unit from a theme to another theme, existing or new."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import (
    UnitPayload,
    clean_label,
    known_theme,
    known_unit,
    new_theme_id,
    replace_theme,
    theme_label,
)
from review.actions.registry import Checked, Context, ReviewAction, register
from review.actions.state import ReviewError, RunState, ThemeState


class MovePayload(UnitPayload):
    to: str | None = Field(None, description="Existing theme id it moves to (or give label)")
    label: str | None = Field(None, description="Label of a new theme it moves to (or give to)")
    from_: str | None = Field(None, alias="from", description="Theme id it leaves (default: its main theme)")


@register("move")
class Move(ReviewAction[MovePayload]):
    Payload = MovePayload

    def check(self, state: RunState, payload: MovePayload, context: Context) -> Checked:
        if not payload.to and not payload.label:
            raise ReviewError(say("review.move_needs"))
        unit = known_unit(state, payload.unit)
        current = state.labels[unit]
        source = payload.from_ or (current[0] if current else None)
        if source is not None and source not in current:
            named = ", ".join(theme_label(state, t) for t in current if t in state.themes) or say("review.nowhere")
            raise ReviewError(say("review.not_in_theme", unit=unit, theme=source, current=named))
        if payload.label:
            label = clean_label(payload.label)
            stored = {"unit": unit, "from": source, "to": new_theme_id(state, label), "label": label}
            return Checked(stored, [f"unit:{unit}"])
        to = known_theme(state, payload.to)
        if to == source:
            raise ReviewError(say("review.already_in_theme", unit=unit, theme=theme_label(state, to)))
        return Checked({"unit": unit, "from": source, "to": to}, [f"unit:{unit}"])

    def apply(self, state: RunState, payload: dict) -> None:
        if payload.get("label"):
            new = ThemeState(payload["to"], payload["label"], [], origin="review")
            if payload.get("from") in state.themes:  # a new theme stays in the net of the theme the unit left
                new.net_id, new.net_label = state.net_of(payload["from"])
            state.themes[payload["to"]] = new
        unit, current = payload["unit"], state.labels.get(payload["unit"], [])
        state.off_topic.discard(unit)
        if payload.get("from") in current:
            state.labels[unit] = replace_theme(current, payload["from"], payload["to"])
        else:
            state.labels[unit] = [payload["to"], *current]
        state.reviewed.add(unit)
