"""Rename a net (the broader theme its codes roll up into)."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import clean_label, known_net
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class RenameNetPayload(Payload):
    net: str = Field(description="Net id to rename (a code alone is its own net, under the code's id)")
    label: str = Field(description="Its new label")


@register("rename_net")
class RenameNet(ReviewAction[RenameNetPayload]):
    Payload = RenameNetPayload

    def check(self, state: RunState, payload: RenameNetPayload, context: Context) -> Checked:
        net, label = known_net(state, payload.net), clean_label(payload.label, "net")
        if state.net_of(state.nets()[net][0])[1] == label:
            raise ReviewError(say("review.net_already_called", label=label))
        return Checked({"net": net, "label": label}, [f"net:{net}"])

    def apply(self, state: RunState, payload: dict) -> None:
        state.put_in_net(state.nets().get(payload["net"], []), payload["net"], payload["label"])
        state.renetted = True
