"""``verbatims users ...``: the people who sign in to the web page."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import open_store
from cli.options import Db, Password
from pipeline import settings
from pipeline.messages import say

app = typer.Typer(help="People who sign in to the web page.", no_args_is_help=True)


@app.command("add")
def add(
    username: str,
    role: Annotated[
        str, typer.Option("--role", help="viewer (read, export), reviewer (correct) or admin (retrain, users).")
    ],
    password: Password = None,
    db: Db = None,
) -> None:
    """Add a user, or give an existing one a new password and role."""
    from review.users import add_user

    # asked for only when neither --password nor VERBATIMS_PASSWORD gives one, as the option's prompt was
    password = settings.current().password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    add_user(open_store(), username, password, role)
    typer.echo(say("user.saved", username=username, role=role))
