"""``verbatims retrain`` and ``verbatims models ...``: the trained theme models, which one is promoted, and
going back."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from cli.click_french import FrenchTyper
from cli.common import open_store
from cli.options import Db
from pipeline import settings

app = FrenchTyper(
    help="Les modèles de thèmes entraînés : lister (list), mettre en service (promote), revenir en arrière (rollback).",
    no_args_is_help=True,
)


def retrain(
    run: Annotated[
        list[str] | None,
        typer.Option("--run", help="S'entraîner sur ces analyses (par défaut : toutes les analyses revues)."),
    ] = None,
    codebook: Annotated[
        Path | None, typer.Option("--codebook", help="Plan de codes dont les thèmes rejoignent l'entraînement.")
    ] = None,
    db: Db = None,
) -> None:
    """Entraîner un modèle de thèmes sur les idées revues ; il n'est mis en service que s'il a vu assez de revues par
    thème et en tout, et qu'il ne fait pas moins bien que le modèle en service ; sinon il est gardé comme candidat."""
    # the guard's thresholds: review.guard
    from flows.retrain import retrain_from_reviews

    report = retrain_from_reviews(run or None, codebook, settings.current().db, getpass.getuser())
    typer.echo(report.summary)


@app.command("list")
def list_(db: Db = None) -> None:
    """Tous les modèles entraînés avec leur macro-F1 en validation croisée ; * marque celui en service ; un modèle
    sous le seuil de mise en service dit ce qui lui manque."""
    from review.guard import unmet
    from review.model_registry import list_models

    rows, promoted = list_models(open_store())
    if not rows:
        typer.echo("aucun modèle : revoyez une analyse, puis `verbatims retrain`")
    for row in rows:
        mark = "*" if row.version == promoted else " "
        f1 = f"{row.metrics.get('cv_macro_f1'):.3f}".replace(".", ",")
        reason = unmet(row.metrics)
        typer.echo(
            f"{mark} {row.version:<6} {row.created_at:%Y-%m-%d %H:%M}  macro-F1 {f1}  {row.n_items} unités "
            f"revues, {row.metrics.get('themes')} thèmes, analyses {', '.join(row.runs)}"
            + (f"\n         sous le seuil de mise en service : {reason}" if reason else "")
        )


@app.command()
def promote(
    version: Annotated[str, typer.Argument(metavar="VERSION", help="Version du modèle (voir `verbatims models list`).")],
    db: Db = None,
) -> None:
    """Mettre en service le modèle VERSION, celui qu'utilise classify (un admin peut mettre en service un candidat
    sous le seuil : classify le refuse alors, sauf avec --force)."""
    from review.guard import unmet
    from review.model_registry import model_row
    from review.model_registry import promote as promote_model

    promote_model(open_store(), version, getpass.getuser(), reason="promoted by hand")
    typer.echo(f"modèle {version} mis en service")
    reason = unmet(model_row(open_store(), version).metrics)
    if reason:
        typer.echo(f"attention : il est sous le seuil de mise en service ({reason}) ; classify le refusera sans --force")


@app.command()
def rollback(db: Db = None) -> None:
    """Revenir au modèle mis en service avant l'actuel."""
    from review.model_registry import rollback as rollback_model

    version = rollback_model(open_store(), getpass.getuser())
    typer.echo(f"retour en arrière : le modèle {version} est de nouveau en service")
