"""The review actions by name, in the style of spaCy's registries: each action is one class holding its
payload schema (the fields a caller gives), its checks against the current state and its effect on it,
and ``@register("name")`` puts an instance in ``ACTIONS``. The web API and the CLI read the schema from
here; ``review.corrections`` looks actions up here to record a correction and to replay history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.messages import action_name, say
from review.actions.state import ReviewError, RunState
from review.store import EventRow


class Payload(BaseModel):
    """The fields a caller gives for one action. Others are ignored: a client may send every field it has."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldDoc(NamedTuple):
    """One payload field as the web API and the CLI show it."""

    required: bool
    description: str


class Checked(NamedTuple):
    """A correction that passed its checks: the payload stored in its event, and the items it touches."""

    payload: dict[str, Any]
    touched: list[str]  # "unit:<id>" or "theme:<id>": what the stale-view check and undo compare


@dataclass(frozen=True)
class Context:
    """What a check may read besides the state: the run's events so far and who is correcting."""

    events: list[EventRow]
    reviewer: str


P = TypeVar("P", bound=Payload)


class ReviewAction(Generic[P]):
    """One kind of correction. Subclasses set ``Payload`` and override ``check`` and ``apply``."""

    name: ClassVar[str]  # set by ``register``
    Payload: ClassVar[type[Payload]]

    def check(self, state: RunState, payload: P, context: Context) -> Checked:
        """Refuse (``ReviewError``) what cannot apply to ``state``; else the stored payload and touched items."""
        raise NotImplementedError

    def apply(self, state: RunState, payload: dict[str, Any]) -> None:
        """The state transition of a stored event: used to replay history and to apply a new correction.

        It reads the stored payload (what ``check`` returned), so databases written before keep replaying.
        """

    def undoes(self, payload: dict[str, Any]) -> int | None:
        """The seq of the event this one cancels, if it cancels one (replay then skips that event)."""
        return None

    def fields(self) -> dict[str, FieldDoc]:
        """The payload's fields by the name a caller gives them."""
        return {
            spec.alias or key: FieldDoc(spec.is_required(), spec.description or "")
            for key, spec in self.Payload.model_fields.items()
        }

    def validate(self, given: Mapping[str, Any]) -> P:
        """``given`` as this action's payload; a missing or malformed field is a ``ReviewError`` naming it."""
        present = {k: v for k, v in given.items() if v is not None}  # None is "not given": the CLI's unset options
        try:
            return self.Payload.model_validate(present)  # type: ignore[return-value]
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"][:1])
            if error["type"] == "missing":
                raise ReviewError(say("review.needs_field", action=action_name(self.name), field=field)) from None
            # pydantic's own message is English: the field's name is what the reviewer can act on
            raise ReviewError(say("review.invalid_field", action=action_name(self.name), field=field)) from None


ACTIONS: dict[str, ReviewAction] = {}  # name -> action, in registration order

A = TypeVar("A", bound=type[ReviewAction])


def register(name: str) -> Callable[[A], A]:
    """Class decorator: make the action available as ``name`` to corrections, replay, the web API and the CLI."""

    def add(cls: A) -> A:
        if name in ACTIONS:
            raise ValueError(f"review action '{name}' is registered twice")
        cls.name = name
        ACTIONS[name] = cls()
        return cls

    return add


def action_named(name: str) -> ReviewAction:
    try:
        return ACTIONS[name]
    except KeyError:
        raise ReviewError(say("review.unknown_action", name=name, names=", ".join(ACTIONS))) from None


def undone(events: Iterable[EventRow]) -> set[int]:
    """Seqs of the events that later events cancel."""
    return {seq for e in events if (seq := action_named(e.action).undoes(e.payload)) is not None}
