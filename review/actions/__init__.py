"""Review actions, registered by name (``ACTIONS``). To add one: write its module here (payload schema,
checks, effect on the run state, ``@register("name")``) and import it below."""

# Importing an action registers it; this order is the order messages list the actions in.
# isort: off
from review.actions import rename, merge, split, move, add, off_topic, confirm  # noqa: F401
from review.actions import rename_net, move_to_net, new_net, dissolve_net, undo  # noqa: F401
from review.actions import settle  # noqa: F401
from review.actions import bulk  # noqa: F401

# isort: on
from review.actions.registry import (
    ACTIONS,
    Checked,
    Context,
    FieldDoc,
    Payload,
    ReviewAction,
    action_named,
    register,
    undone,
)
from review.actions.state import ReviewError, RunState, StaleViewError, ThemeState, UnknownItemError

__all__ = [
    "ACTIONS",
    "Checked",
    "Context",
    "FieldDoc",
    "Payload",
    "ReviewAction",
    "ReviewError",
    "RunState",
    "StaleViewError",
    "ThemeState",
    "UnknownItemError",
    "action_named",
    "register",
    "undone",
]
