"""``verbatims users ...``: the people who sign in to the web page."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from cli.click_french import FrenchTyper
from cli.common import fail, open_store
from cli.options import Db, Yes, confirm_or_stop
from pipeline import settings
from pipeline.messages import plural, say

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
    db: Db = None,
) -> None:
    """Ajouter un utilisateur, ou donner à un utilisateur existant un nouveau mot de passe et un nouveau rôle (ses
    sessions sont alors fermées). Le mot de passe est demandé (masqué, deux fois), ou lu dans VERBATIMS_PASSWORD."""
    from review.users import add_user

    add_user(open_store(), username, _password(), role)
    typer.echo(say("user.saved", username=username, role=role))


User = Annotated[str, typer.Argument(metavar="UTILISATEUR", help="Nom de connexion.")]


@app.command("list")
def list_(db: Db = None) -> None:
    """Lister les utilisateurs, leur rôle, et ceux qui sont désactivés."""
    from review.users import list_users

    accounts = list_users(open_store())
    for account in accounts:
        state = say("user.state_disabled") if account.disabled else ""
        typer.echo(say("user.line", username=account.username, role=account.role, state=state))
    if not accounts:
        typer.echo(say("user.none"))


@app.command("disable")
def disable(username: User, db: Db = None) -> None:
    """Désactiver un utilisateur : il ne peut plus se connecter, et ses sessions sont fermées."""
    from review.users import set_disabled

    ended = set_disabled(open_store(), username, True)
    typer.echo(say("user.disabled", username=username, sessions=plural(ended, "session_ended")))


@app.command("enable")
def enable(username: User, db: Db = None) -> None:
    """Réactiver un utilisateur désactivé."""
    from review.users import set_disabled

    set_disabled(open_store(), username, False)
    typer.echo(say("user.enabled", username=username))


@app.command("remove")
def remove(username: User, yes: Yes = False, db: Db = None) -> None:
    """Supprimer un utilisateur et fermer ses sessions ; ses revues restent dans l'historique."""
    from review.erasure import erase_user

    confirm_or_stop(say("user.confirm_remove", username=username), yes)
    ended = erase_user(open_store(), username, getpass.getuser()).removed["sessions"]
    typer.echo(say("user.removed", username=username, sessions=plural(ended, "session_ended")))


@app.command("reset-password")
def reset(username: User, db: Db = None) -> None:
    """Donner un nouveau mot de passe (demandé, masqué, deux fois, ou lu dans VERBATIMS_PASSWORD) ; les sessions de
    l'utilisateur sont fermées."""
    from review.users import reset_password

    ended = reset_password(open_store(), username, _password())
    typer.echo(say("user.password_reset", username=username, sessions=plural(ended, "session_ended")))


@app.command("end-sessions")
def end(username: User, db: Db = None) -> None:
    """Fermer toutes les sessions ouvertes d'un utilisateur (il devra se reconnecter)."""
    from review.sessions import end_sessions

    ended = end_sessions(open_store(), username)
    typer.echo(say("user.sessions_ended", username=username, sessions=plural(ended, "session_ended")))


def _password() -> str:
    """VERBATIMS_PASSWORD (scripts), else asked; never an option: the command line shows in the process list."""
    return settings.current().password or _ask_password()


def _ask_password() -> str:
    """Asked twice, hidden; asked here rather than with Click's confirmation prompt, whose mismatch is English."""
    password, again = (
        typer.prompt(say(text), hide_input=True, prompt_suffix=" : ") for text in ("cli.password", "cli.password_again")
    )
    if again != password:
        fail(say("cli.password_mismatch"))
    return password
