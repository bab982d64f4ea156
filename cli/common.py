"""What every ``verbatims`` command shares: one-line errors, the review store, a quick exit."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from cli.click_french import FrenchGroup, usage_error
from pipeline.errors import VerbatimsError
from pipeline.messages import say

if TYPE_CHECKING:  # SQLAlchemy, for the annotation only
    from review.store import Store


def fail(message: object) -> NoReturn:
    typer.secho(say("cli.error", message=message), fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


class OneLineErrors(FrenchGroup):
    """The root command group: an error the user can act on, raised by any command below it (sub-apps too,
    since they run inside the root's ``invoke``), is one red ``erreur :`` line and exit code 2, not a traceback.
    A usage error (a missing argument, an unknown option) is that line too, in French, after the usage line."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> typer.Context:
        try:  # the root's own options and command name are parsed here; a command's, in ``invoke``
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            _usage_failure(exc)

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except VerbatimsError as exc:
            fail(exc)
        except UsageError as exc:
            _usage_failure(exc)
        except typer.Abort:  # a prompt left with Ctrl-C or Ctrl-D; Typer would say "Aborted!"
            typer.secho(say("cli.aborted"), fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None


def _usage_failure(error: UsageError) -> NoReturn:
    if isinstance(error, NoArgsIsHelpError):  # a group typed alone: its help, as Typer shows it
        raise error
    if error.ctx is not None:
        typer.echo(error.ctx.get_usage(), err=True)
        help_option = error.ctx.help_option_names[0]
        typer.echo(say("cli.help_hint", command=error.ctx.command_path, option=help_option), err=True)
    fail(usage_error(error))


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
