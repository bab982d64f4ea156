"""What every ``verbatims`` command shares: one-line errors, the review store, a quick exit."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, NoReturn

import click
import typer
from typer.core import TyperGroup

from pipeline.errors import VerbatimsError
from pipeline.messages import say

if TYPE_CHECKING:  # SQLAlchemy, for the annotation only
    from review.store import Store


def fail(message: object) -> NoReturn:
    typer.secho(say("cli.error", message=message), fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


class OneLineErrors(TyperGroup):
    """The root command group: an error the user can act on, raised by any command below it (sub-apps too,
    since they run inside the root's ``invoke``), is one red ``erreur :`` line and exit code 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except VerbatimsError as exc:
            fail(exc)


def skip_final_collection() -> None:
    """Called when a command's work is done: torch and transformers (imported through BERTopic) leave so many
    objects that the interpreter's last garbage collection took 2 to 3 s after the results were printed.
    Frozen objects are left to the operating system; files and the store are already closed."""
    gc.freeze()


def open_store() -> Store:
    """The review store the settings name (``--db``, else ``VERBATIMS_DB``); SQLAlchemy is imported only here,
    for the commands that need it, so that ``verbatims --help`` stays quick."""
    from review.store import Store

    return Store()
