"""``verbatims users ...``: the people who sign in to the web page."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.click_french import FrenchTyper
from cli.common import fail, open_store
from cli.options import Db, Password
from pipeline import settings
from pipeline.messages import say

app = FrenchTyper(help="Les personnes qui se connectent à la page web.", no_args_is_help=True)


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(metavar="UTILISATEUR", help="Nom de connexion.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="viewer (lecture, export), reviewer (corrections) ou admin (réentraînement, utilisateurs).",
        ),
    ],
    password: Password = None,
    db: Db = None,
) -> None:
    """Ajouter un utilisateur, ou donner à un utilisateur existant un nouveau mot de passe et un nouveau rôle."""
    from review.users import add_user

    # asked for only when neither --password nor VERBATIMS_PASSWORD gives one, as the option's prompt was
    password = settings.current().password or _ask_password()
    add_user(open_store(), username, password, role)
    typer.echo(say("user.saved", username=username, role=role))


def _ask_password() -> str:
    """Asked twice, hidden; asked here rather than with Click's confirmation prompt, whose mismatch is English."""
    password, again = (
        typer.prompt(say(text), hide_input=True, prompt_suffix=" : ") for text in ("cli.password", "cli.password_again")
    )
    if again != password:
        fail(say("cli.password_mismatch"))
    return password
