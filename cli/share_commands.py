"""``verbatims share ...``: read-only links to a run's report for readers without an account (``review.shares``),
as an admin makes them on the run page."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from cli.click_french import FrenchTyper
from cli.common import open_store
from cli.options import Db, RunArg
from cli.review_commands import _open_run
from pipeline import settings
from pipeline.messages import say

app = FrenchTyper(
    help="Liens de partage en lecture seule vers le rapport d'une analyse : qui a le lien lit le rapport et le "
    "télécharge, rien d'autre, jusqu'à son expiration ou sa révocation.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    run: RunArg,
    # checked by review.shares, not here: importing it (SQLAlchemy) for its limits would slow `verbatims --help`
    days: Annotated[
        int | None, typer.Option("--days", help="Durée de vie du lien, de 1 à 90 jours (par défaut : 7 jours).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Pour qui, pourquoi (montré dans la liste des liens).")] = "",
    db: Db = None,
) -> None:
    """Créer un lien vers le rapport de l'analyse ; son adresse n'est affichée qu'une fois."""
    from review.shares import address, create_link

    store, run_id = _open_run(run)
    made = create_link(store, run_id, getpass.getuser(), days, note)
    base = settings.current().web_url
    typer.echo(say("share.created", link_id=made.link.link_id, at=made.link.expires_at))
    typer.echo(address(made.token, base) + ("" if base else " " + say("share.no_web_url")))
    typer.echo(say("share.copy"))


@app.command("list")
def list_(run: RunArg, db: Db = None) -> None:
    """Les liens de l'analyse, le plus récent d'abord, avec leur état (actif, expiré, révoqué)."""
    from review.shares import list_links

    store, run_id = _open_run(run)
    store.run_exists(run_id)
    links = list_links(store, run_id)
    if not links:
        typer.echo(say("share.none", run_id=run_id))
    for link in links:
        note = say("share.note", note=link.note) if link.note else ""
        state = say(f"share.state.{link.state()}")
        typer.echo(
            say(
                "share.line",
                link_id=link.link_id,
                state=state,
                created=link.created_at,
                by=link.created_by,
                expires=link.expires_at,
                note=note,
            )
        )


@app.command("revoke")
def revoke(
    link: Annotated[int, typer.Argument(metavar="LIEN", help="Numéro du lien (voir `verbatims share list`).")],
    db: Db = None,
) -> None:
    """Fermer un lien pour de bon : son adresse n'ouvre plus rien."""
    from review.shares import revoke_link

    revoke_link(open_store(), link)
    typer.echo(say("share.revoked_done", link_id=link))
