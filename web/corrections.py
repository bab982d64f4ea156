"""One correction as the queue page and API clients send it, handed to ``review.corrections.correct``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from review.corrections import ReviewError, correct
from review.store import EventRow, Store


class Correction(BaseModel):
    """One correction, as the queue page and API clients send it."""

    action: str = Field(description="rename, merge, split, move, add, off_topic, confirm or undo")
    seen: int | None = Field(None, description="Run version the reviewer's view showed (stale-view check)")
    theme: str | None = None
    label: str | None = None
    target: str | None = None
    sources: list[str] | None = None
    units: list[str] | None = None
    unit: str | None = None
    to: str | None = None
    event: int | None = None


def apply_correction(store: Store, run_id: str, username: str, body: Correction) -> EventRow:
    """Save the correction; a field missing for its action is a ReviewError saying which, not a server error."""
    payload = {k: v for k, v in body.model_dump(exclude={"action", "seen"}).items() if v is not None}
    if body.action == "move" and not payload.get("to") and not payload.get("label"):
        raise ReviewError("move needs 'to' (a theme id) or 'label' (a new theme)")
    try:
        return correct(store, run_id, username, body.action, body.seen, **payload)
    except TypeError as exc:  # a field missing for this action
        raise ReviewError(f"'{body.action}' is missing a field: {exc}") from exc
    except KeyError as exc:
        raise ReviewError(f"'{body.action}' needs the field {exc}") from exc
