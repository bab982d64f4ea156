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
from pipeline.messages import decimal, plural, plural_word, say

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
    from review.store import parameter_url

    report = retrain_from_reviews(run or None, codebook, parameter_url(), getpass.getuser())
    typer.echo(report.summary)


@app.command("list")
def list_(db: Db = None) -> None:
    """Tous les modèles entraînés avec leur macro-F1 en validation croisée ; * marque celui en service ; un modèle
    sous le seuil de mise en service dit ce qui lui manque."""
    from review.guard import unmet
    from review.model_registry import list_models

    rows, promoted = list_models(open_store())
    if not rows:
        typer.echo(say("cli.no_model"))
    for row in rows:
        reason = unmet(row.metrics)
        line = say(
            "cli.model_line",
            mark="*" if row.version == promoted else " ",
            version=row.version,
            created=row.created_at,
            f1=decimal(row.metrics.get("cv_macro_f1"), ".3f"),
            reviewed=plural(row.n_items, "reviewed_idea"),
            themes=plural(row.metrics.get("themes") or 0, "theme"),
            runs=f"{plural_word(len(row.runs), 'run')} {', '.join(row.runs)}",
        )
        typer.echo(line + (f"\n         {say('cli.model_below', reason=reason)}" if reason else ""))


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
    typer.echo(say("cli.model_promoted", version=version))
    reason = unmet(model_row(open_store(), version).metrics)
    if reason:
        typer.echo(say("cli.model_promoted_below", reason=reason))


@app.command()
def rollback(db: Db = None) -> None:
    """Revenir au modèle mis en service avant l'actuel."""
    from review.model_registry import rollback as rollback_model

    version = rollback_model(open_store(), getpass.getuser())
    typer.echo(say("cli.model_rolled_back", version=version))
