"""The options and arguments several commands share, defined once.

A flag the user gives is applied to the settings as soon as it is parsed (``settings.configure``); commands,
the flows and the store then read ``settings.current()``. So a command declares ``db: Db = None`` to offer
``--db`` and does not pass the value on, and ``VERBATIMS_*`` variables are read only by the settings.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline import settings
from pipeline.settings import TASK_RUNNER_HELP


def _setting(flag: str, field: str, help: str) -> object:
    """An option whose value, when given, goes to the settings field ``field`` as soon as it is parsed."""

    def apply(value: str | None) -> str | None:
        settings.configure(**{field: value})
        return value

    return typer.Option(flag, help=help, callback=apply)


Db = Annotated[
    str | None,
    _setting(
        "--db",
        "db",
        "Review store: a file or a postgresql:// URL (default: VERBATIMS_DB, else outputs/verbatims.sqlite).",
    ),
]
Runner = Annotated[
    str | None,
    _setting(
        "--task-runner",
        "task_runner",
        f"Where tasks run: {TASK_RUNNER_HELP}. Default: VERBATIMS_TASK_RUNNER, else threads.",
    ),
]
Reviewer = Annotated[
    str | None, _setting("--reviewer", "reviewer", "Who corrects (default: VERBATIMS_REVIEWER, else your login name).")
]
Password = Annotated[
    str | None, _setting("--password", "password", "Default: VERBATIMS_PASSWORD, else asked for (hidden, twice).")
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
