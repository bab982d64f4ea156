"""Dissolve a net: each of its codes becomes a net of its own."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import known_net, new_net_id
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class DissolveNetPayload(Payload):
    net: str = Field(description="Net id to dissolve (its codes each become their own net)")


@register("dissolve_net")
class DissolveNet(ReviewAction[DissolveNetPayload]):
    Payload = DissolveNetPayload

    def check(self, state: RunState, payload: DissolveNetPayload, context: Context) -> Checked:
        net = known_net(state, payload.net)
        nets = state.nets()
        codes = nets[net]
        if len(codes) == 1:
            raise ReviewError(say("review.single_code", net=state.net_of(codes[0])[1]))
        own: dict[str, str] = {}
        for theme in codes:  # a code alone takes its own id as its net's, unless another net has that id
            free = theme not in nets or theme == net
            own[theme] = theme if free else new_net_id(state, state.themes[theme].label, taken=set(own.values()))
        touched = [f"net:{net}", *(f"theme:{t}" for t in codes), *(f"net:{n}" for n in own.values() if n != net)]
        return Checked({"net": net, "themes": own}, touched)

    def apply(self, state: RunState, payload: dict) -> None:
        for theme_id, own in payload["themes"].items():
            if theme_id in state.themes:
                state.put_in_net([theme_id], own, state.themes[theme_id].label)
        state.renetted = True
