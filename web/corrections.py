"""One correction as the queue page and API clients send it, handed to ``review.corrections.correct``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from review.corrections import ACTIONS, correct
from review.store import EventRow, Store


class Correction(BaseModel):
    """One correction, as the queue page and API clients send it. The fields below are those of today's actions,
    for the API's schema; any other field is passed on too, so an action registered later (``review.actions``)
    needs no change here: its own schema checks its fields."""

    model_config = ConfigDict(extra="allow")

    action: str = Field(description=f"one of: {', '.join(ACTIONS)}")
    # Required: a write without the version its author saw could overwrite what another reviewer did meanwhile
    seen: int = Field(ge=0, description="Run version the reviewer's view showed (stale-view check)")
    theme: str | None = None
    label: str | None = None
    target: str | None = None
    sources: list[str] | None = None
    units: list[str] | None = None
    unit: str | None = None
    to: str | None = None
    event: int | None = None


def apply_correction(store: Store, run_id: str, username: str, body: Correction) -> EventRow:
    """Save the correction; its action's schema checks the fields (a missing one is a ReviewError naming it)."""
    payload = {k: v for k, v in body.model_dump(exclude={"action", "seen"}).items() if v is not None}
    return correct(store, run_id, username, body.action, body.seen, **payload)
