"""The options and arguments several commands share, defined once.

A flag the user gives is applied to the settings as soon as it is parsed (``settings.configure``); commands,
the flows and the store then read ``settings.current()``. So a command declares ``db: Db = None`` to offer
``--db`` and does not pass the value on, and ``VERBATIMS_*`` variables are read only by the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from pipeline import settings
from pipeline.settings import TASK_RUNNER_HELP


def _applied(field: str) -> Callable[[str | None], str | None]:
    """An option callback that gives the flag, when given, to the settings field of that name."""

    def apply(value: str | None) -> str | None:
        settings.configure(**{field: value})
        return value

    return apply


Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Review store: a file or a postgresql:// URL (default: VERBATIMS_DB, else outputs/verbatims.sqlite).",
        callback=_applied("db"),
    ),
]
Runner = Annotated[
    str | None,
    typer.Option(
        "--task-runner",
        help=f"Where tasks run: {TASK_RUNNER_HELP}. Default: VERBATIMS_TASK_RUNNER, else threads.",
        callback=_applied("task_runner"),
    ),
]
Reviewer = Annotated[
    str | None,
    typer.Option(
        "--reviewer",
        help="Who corrects (default: VERBATIMS_REVIEWER, else your login name).",
        callback=_applied("reviewer"),
    ),
]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="Default: VERBATIMS_PASSWORD, else asked for (hidden, twice).",
        callback=_applied("password"),
    ),
]
Seen = Annotated[
    int | None,
    typer.Option(
        "--seen",
        help="Run version your view showed (printed by show/queue). A correction on a view older than another "
        "reviewer's change to the same items is refused.",
    ),
]
RunArg = Annotated[str, typer.Argument(metavar="RUN", help="Run id (see `verbatims runs`), or 'latest'.")]
