"""The ``verbatims`` command: what analysts and report writers type.

This module only composes the command: every command is defined in the module of its kind and registered
here, in the order ``verbatims --help`` lists them, under the one group that turns errors into one line.
"""

from __future__ import annotations

import sys

from cli import (
    agreement_commands,
    analysis_commands,
    erase_commands,
    model_commands,
    review_commands,
    server_commands,
    share_commands,
    user_commands,
)
from cli.click_french import FrenchTyper
from cli.common import OneLineErrors
from cli.resident import hand_over

app = FrenchTyper(
    cls=OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Des réponses ouvertes d'enquête, en français, aux thèmes classés avec leurs citations représentatives.

    Pour commencer : verbatims analyze reponses.csv, puis verbatims review queue latest."""


app.command()(analysis_commands.analyze)
app.add_typer(erase_commands.runs_app, name="runs")
app.command()(model_commands.retrain)
app.command()(analysis_commands.classify)
app.command()(server_commands.serve)
app.command("serve-flows")(server_commands.serve_flows)
app.add_typer(user_commands.app, name="users")
review_commands.app.command("double-code")(agreement_commands.double_code)
review_commands.app.command("code")(agreement_commands.code)
review_commands.app.command("agreement")(agreement_commands.agreement)
review_commands.app.command("settle")(agreement_commands.settle)
app.add_typer(review_commands.app, name="review")
app.add_typer(model_commands.app, name="models")
app.add_typer(share_commands.app, name="share")
app.add_typer(erase_commands.erase_app, name="erase")


def run() -> None:
    """The console script: a command the resident engine serves goes to it when one is ready for this setting
    (a re-run pays for no imports or models); any other command, or none ready, runs here."""
    code = hand_over(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    app()


if __name__ == "__main__":
    run()
