"""Rename a theme."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import clean_label, known_theme
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class RenamePayload(Payload):
    theme: str = Field(description="Theme id to rename")
    label: str = Field(description="Its new label")


@register("rename")
class Rename(ReviewAction[RenamePayload]):
    Payload = RenamePayload

    def check(self, state: RunState, payload: RenamePayload, context: Context) -> Checked:
        theme, label = known_theme(state, payload.theme), clean_label(payload.label)
        if state.themes[theme].label == label:
            raise ReviewError(say("review.already_called", label=label))
        return Checked({"theme": theme, "label": label}, [f"theme:{theme}"])

    def apply(self, state: RunState, payload: dict) -> None:
        theme = state.themes[payload["theme"]]
        net_id, net_label = state.net_of(theme.theme_id)
        if net_label == theme.label and state.nets()[net_id] == [theme.theme_id]:  # a code alone names its net
            theme.net_label = payload["label"]
        theme.label = payload["label"]
