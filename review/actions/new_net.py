"""Put codes (themes) in a new net: they leave their nets."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import clean_label, net_keys, netted_theme, new_net_id
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class NewNetPayload(Payload):
    themes: list[str] = Field(description="Theme ids (codes) that form the new net")
    label: str = Field(description="Label of the new net")


@register("new_net")
class NewNet(ReviewAction[NewNetPayload]):
    Payload = NewNetPayload

    def check(self, state: RunState, payload: NewNetPayload, context: Context) -> Checked:
        themes = list(dict.fromkeys(netted_theme(state, t) for t in payload.themes))
        label = clean_label(payload.label, "net")
        if not themes:
            raise ReviewError(say("review.new_net_needs"))
        nets = state.nets()
        whole = [n for n, codes in nets.items() if set(codes) == set(themes)]
        if whole:
            raise ReviewError(say("review.whole_net", net=state.net_of(themes[0])[1]))
        net = new_net_id(state, label)
        return Checked({"themes": themes, "net": net, "label": label}, [*net_keys(state, themes), f"net:{net}"])

    def apply(self, state: RunState, payload: dict) -> None:
        state.put_in_net([t for t in payload["themes"] if t in state.themes], payload["net"], payload["label"])
        state.renetted = True
