"""Move a code (a theme) to another existing net: it leaves its net."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from pipeline.records import OTHER_ID
from review.actions.checks import known_net, net_keys, netted_theme, theme_label
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class MoveToNetPayload(Payload):
    theme: str = Field(description="Theme id (a code) that changes net")
    net: str = Field(description="Id of the existing net it joins")


@register("move_to_net")
class MoveToNet(ReviewAction[MoveToNetPayload]):
    Payload = MoveToNetPayload

    def check(self, state: RunState, payload: MoveToNetPayload, context: Context) -> Checked:
        theme, net = netted_theme(state, payload.theme), known_net(state, payload.net)
        if net == OTHER_ID:
            raise ReviewError(say("review.other_joined", other=theme_label(state, OTHER_ID)))
        source = state.net_of(theme)[0]
        label = state.net_of(state.nets()[net][0])[1]
        if source == net:
            raise ReviewError(say("review.already_in_net", theme=theme_label(state, theme), net=label))
        return Checked(
            {"theme": theme, "from": source, "net": net, "label": label}, [*net_keys(state, [theme]), f"net:{net}"]
        )

    def apply(self, state: RunState, payload: dict) -> None:
        codes = state.nets().get(payload["net"])
        label = state.net_of(codes[0])[1] if codes else payload["label"]  # renamed since: its label now
        state.put_in_net([payload["theme"]], payload["net"], label)
        state.renetted = True
