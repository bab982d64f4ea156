"""``verbatims erase respondent ID`` and ``verbatims runs [delete | purge]``: erasure requests and retention
(``review.erasure``). Each asks for confirmation in French unless ``--yes``: what goes cannot come back."""

from __future__ import annotations

import getpass
from difflib import get_close_matches
from typing import Annotated

import typer
from typer._click.exceptions import UsageError

from cli import review_commands
from cli.click_french import FrenchGroup, FrenchTyper
from cli.options import Db, RunArg, Yes, confirm_or_stop
from cli.review_commands import _open_run
from pipeline import settings
from pipeline.messages import plural, plural_word, say

erase_app = FrenchTyper(
    help="Effacer des données personnelles : les réponses d'un répondant dans toutes les analyses.",
    no_args_is_help=True,
)


class _ListingGroup(FrenchGroup):
    """``verbatims runs`` lists the runs, as it did before ``delete`` and ``purge`` made it a group: a word after
    it that is no command, nor close to one (``delet``), is an extra argument of the listing."""

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        if args and args[0] not in self.commands and not get_close_matches(args[0], list(self.commands)):
            many = "s" if len(args) > 1 else ""
            raise UsageError(f"Got unexpected extra argument{many} ({' '.join(args)})", ctx)
        return super().resolve_command(ctx, args)


runs_app = FrenchTyper(
    cls=_ListingGroup,
    help="Les analyses enregistrées dans la base de revue, la plus récente d'abord ; les supprimer.",
    invoke_without_command=True,
)


def _who() -> str:
    return settings.current().reviewer or getpass.getuser()


@erase_app.command("respondent")
def respondent(
    respondent_id: Annotated[str, typer.Argument(metavar="RÉPONDANT", help="Identifiant du répondant.")],
    yes: Yes = False,
    db: Db = None,
) -> None:
    """Effacer toutes les réponses d'un répondant : base de revue, caches, résultats Prefect, fichiers exportés
    (réécrits sans elles) ; l'effacement est consigné sans l'identifiant."""
    from sqlalchemy import select

    from review.erasure import erase_respondent
    from review.store import RespondentRow, Store

    store = Store()
    with store.reading() as session:
        runs = len(set(session.scalars(select(RespondentRow.run_id).where(RespondentRow.respondent_id == respondent_id))))
    confirm_or_stop(say("erase.confirm_respondent", respondent=respondent_id, runs=plural(runs, "run")), yes)
    erasure = erase_respondent(store, respondent_id, _who())
    typer.echo(say("erase.respondent_done", runs=plural(len(erasure.runs), "run"), removed=erasure.summary()))
    typer.echo(say("erase.user_program"))


@runs_app.callback()
def runs(
    ctx: typer.Context,
    db: Db = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Nombre d'analyses à lister.")] = 20,
) -> None:
    """Les analyses enregistrées dans la base de revue, la plus récente d'abord ; `delete` et `purge` les
    suppriment."""
    if ctx.invoked_subcommand is None:
        review_commands.runs(db, limit)


@runs_app.command("delete")
def delete(run: RunArg, yes: Yes = False, db: Db = None) -> None:
    """Supprimer une analyse : ses lignes dans la base, ses fichiers exportés, son fichier déposé, ses résultats
    en cache que n'utilise aucune autre analyse."""
    from review.erasure import delete_run

    store, run_id = _open_run(run)
    store.run_exists(run_id)
    confirm_or_stop(say("erase.confirm_run", run_id=run_id), yes)
    erasure = delete_run(store, run_id, _who())
    typer.echo(say("erase.run_done", run_id=run_id, removed=erasure.summary()))


@runs_app.command("purge")
def purge(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            min=1,
            metavar="JOURS",
            help="Supprimer les analyses de plus de JOURS jours (par défaut : VERBATIMS_RETENTION_DAYS).",
        ),
    ] = None,
    yes: Yes = False,
    db: Db = None,
) -> None:
    """Supprimer les analyses plus anciennes que la durée de conservation. Sans --yes, la liste est montrée et
    une confirmation demandée : sans terminal pour répondre, rien n'est supprimé."""
    from pipeline.errors import InputError
    from review.erasure import delete_run, runs_older_than
    from review.store import Store

    days = older_than or settings.current().retention_days
    if not days:
        raise InputError(say("erase.no_retention"))
    store = Store()
    old = runs_older_than(store, days)
    age = plural(days, "day")
    if not old:
        typer.echo(say("erase.purge_none", days=age))
        return
    confirm_or_stop(say("erase.confirm_purge", runs=plural(len(old), "run"), days=age, list=", ".join(old)), yes)
    removed = [delete_run(store, run_id, _who()) for run_id in old]
    total = removed[0]
    for erasure in removed[1:]:
        total.removed.update(erasure.removed)
    typer.echo(
        say(
            "erase.purge_done",
            runs=plural(len(old), "run"),
            days=age,
            deleted=plural_word(len(old), "deleted_f"),
            removed=total.summary(),
        )
    )
