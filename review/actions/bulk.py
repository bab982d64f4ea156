"""One correction for many units at once: move them to a theme, give them a further theme, confirm them or
mark them off-topic. It is one event, so one undo reverts every unit, and a stale view of any of its units
refuses it whole. Each unit goes through the checks and the effect of the one-unit action it stands for, so a
bulk move of twenty units changes the state exactly as twenty moves would."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from pipeline.messages import action_name, plural, say
from review.actions.checks import known_theme, known_unit
from review.actions.registry import Checked, Context, Payload, ReviewAction, action_named, register
from review.actions.state import ReviewError, RunState

Operation = Literal["move", "add", "confirm", "off_topic"]
NEEDS_THEME = ("move", "add")
SHOWN_REFUSALS = 3  # a refusal names this many of its units' reasons: enough to see what to unselect


class BulkPayload(Payload):
    operation: Operation = Field(description="What happens to each unit: move, add, confirm or off_topic")
    units: list[str] = Field(description="Idea unit ids it applies to (as in assignments.csv)")
    to: str | None = Field(None, description="Theme id the units move to (move) or also get (add)")
    from_: str | None = Field(
        None, alias="from", description="Theme id the units leave on a move (default: each one's main theme)"
    )


@register("bulk")
class Bulk(ReviewAction[BulkPayload]):
    Payload = BulkPayload

    def check(self, state: RunState, payload: BulkPayload, context: Context) -> Checked:
        units = list(dict.fromkeys(known_unit(state, u) for u in payload.units))
        if not units:
            raise ReviewError(say("review.bulk_needs_units", action=action_name(payload.operation)))
        if payload.operation in NEEDS_THEME:  # checked once: the same theme for every unit
            if not payload.to:
                raise ReviewError(say("review.bulk_needs_to", action=action_name(payload.operation)))
            known_theme(state, payload.to)
        action = action_named(payload.operation)
        items: list[dict[str, Any]] = []
        touched: list[str] = []
        refused: list[str] = []
        for unit in units:  # each against the state before any applies: units are distinct, the theme unchanged
            try:
                checked = action.check(state, action.validate(_one(payload, unit)), context)
            except ReviewError as exc:
                refused.append(str(exc))
                continue
            items.append(checked.payload)
            touched.extend(checked.touched)
        if refused:
            more = say("review.bulk_more", n=len(refused) - SHOWN_REFUSALS) if len(refused) > SHOWN_REFUSALS else ""
            raise ReviewError(
                say(
                    "review.bulk_refused",
                    action=action_name(payload.operation),
                    refused=plural(len(refused), "idea"),
                    total=len(units),
                    reasons="; ".join(refused[:SHOWN_REFUSALS]),
                    more=more,
                )
            )
        return Checked({"operation": payload.operation, "items": items}, list(dict.fromkeys(touched)))

    def apply(self, state: RunState, payload: dict) -> None:
        action = action_named(payload["operation"])
        for item in payload["items"]:
            action.apply(state, item)


def _one(payload: BulkPayload, unit: str) -> dict[str, str | None]:
    """The fields of the one-unit action ``payload.operation`` for ``unit``."""
    if payload.operation == "move":
        return {"unit": unit, "to": payload.to, "from": payload.from_}
    if payload.operation == "add":
        return {"unit": unit, "theme": payload.to}
    return {"unit": unit}
