"""Merge themes into another: their units join it and the merged themes retire."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import say
from review.actions.checks import known_theme, replace_theme
from review.actions.registry import Checked, Context, Payload, ReviewAction, register
from review.actions.state import ReviewError, RunState


class MergePayload(Payload):
    target: str = Field(description="Theme id that receives the units and stays")
    sources: list[str] = Field(description="Theme ids merged into the target (they retire)")


@register("merge")
class Merge(ReviewAction[MergePayload]):
    Payload = MergePayload

    def check(self, state: RunState, payload: MergePayload, context: Context) -> Checked:
        target = known_theme(state, payload.target)
        sources = list(dict.fromkeys(known_theme(state, s) for s in payload.sources))
        if not sources or target in sources:
            raise ReviewError(say("review.merge_needs"))
        return Checked({"sources": sources, "target": target}, [f"theme:{t}" for t in [*sources, target]])

    def apply(self, state: RunState, payload: dict) -> None:
        for source in payload["sources"]:
            for unit, themes in state.labels.items():
                if source in themes:
                    state.labels[unit] = replace_theme(themes, source, payload["target"])
            state.themes.pop(source)
            state.merged_into[source] = payload["target"]
