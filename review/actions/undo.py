"""Undo a correction. The undo is an event too: replay skips the event it names, nothing is deleted."""

from __future__ import annotations

from pydantic import Field

from pipeline.messages import action_name, say
from review.actions.registry import Checked, Context, Payload, ReviewAction, register, undone
from review.actions.state import ReviewError, RunState
from review.store import EventRow


class UndoPayload(Payload):
    event: int | None = Field(None, description="Correction number to undo (default: the reviewer's last one)")


@register("undo")
class Undo(ReviewAction[UndoPayload]):
    Payload = UndoPayload

    def check(self, state: RunState, payload: UndoPayload, context: Context) -> Checked:
        events, cancelled = context.events, undone(context.events)
        target = self._target(state, payload, context, cancelled)
        later = [e for e in events if e.seq > target.seq and e.seq not in cancelled and set(e.touched) & set(target.touched)]
        if later:
            blockers = ", ".join(
                say("review.undo_blocker", seq=e.seq, action=action_name(e.action), reviewer=e.reviewer) for e in later
            )
            raise ReviewError(say("review.undo_blocked", seq=target.seq, later=blockers))
        return Checked({"event": target.seq}, list(target.touched))

    def _target(self, state: RunState, payload: UndoPayload, context: Context, cancelled: set[int]) -> EventRow:
        if payload.event is None:  # the reviewer's own last correction still in force
            mine = [
                e
                for e in context.events
                if e.action != self.name and e.seq not in cancelled and e.reviewer == context.reviewer
            ]
            if not mine:
                raise ReviewError(say("review.undo_nothing", reviewer=context.reviewer, run_id=state.run_id))
            return mine[-1]
        target = next((e for e in context.events if e.seq == payload.event), None)
        if target is None:
            raise ReviewError(say("review.undo_unknown", seq=payload.event, run_id=state.run_id))
        if target.action == self.name:
            raise ReviewError(say("review.undo_of_undo", seq=target.seq))
        if target.seq in cancelled:
            raise ReviewError(say("review.already_undone", seq=target.seq))
        return target

    def undoes(self, payload: dict) -> int | None:
        return payload["event"]
