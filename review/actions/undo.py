"""Undo a correction. The undo is an event too: replay skips the event it names, nothing is deleted."""

from __future__ import annotations

from pydantic import Field

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
            raise ReviewError(
                f"cannot undo #{target.seq}: the same items were changed since by "
                + ", ".join(f"#{e.seq} ({e.action} by {e.reviewer})" for e in later)
                + "; undo those first"
            )
        return Checked({"event": target.seq}, list(target.touched))

    def _target(self, state: RunState, payload: UndoPayload, context: Context, cancelled: set[int]) -> EventRow:
        if payload.event is None:  # the reviewer's own last correction still in force
            mine = [
                e
                for e in context.events
                if e.action != self.name and e.seq not in cancelled and e.reviewer == context.reviewer
            ]
            if not mine:
                raise ReviewError(f"nothing of {context.reviewer}'s to undo in run {state.run_id}")
            return mine[-1]
        target = next((e for e in context.events if e.seq == payload.event), None)
        if target is None:
            raise ReviewError(f"no correction #{payload.event} in run {state.run_id}: see `verbatims review history`")
        if target.action == self.name:
            raise ReviewError(f"#{target.seq} is itself an undo: make the correction again instead")
        if target.seq in cancelled:
            raise ReviewError(f"correction #{target.seq} is already undone")
        return target

    def undoes(self, payload: dict) -> int | None:
        return payload["event"]
