"""``verbatims retrain`` and ``verbatims models ...``: the trained theme models, which one is promoted, and
going back."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from cli.common import open_store
from cli.options import Db
from pipeline import settings

app = typer.Typer(help="Trained theme models: list, promote, roll back.", no_args_is_help=True)


def retrain(
    run: Annotated[
        list[str] | None, typer.Option("--run", help="Train on these runs (default: every reviewed run).")
    ] = None,
    codebook: Annotated[Path | None, typer.Option("--codebook", help="Codebook whose themes join the training.")] = None,
    db: Db = None,
) -> None:
    """Train a theme model from reviewed units; promote it only if it saw enough reviews per theme and in all
    (review.guard) and is not worse than the promoted one; otherwise it is kept as a candidate."""
    from flows.retrain import retrain_from_reviews

    report = retrain_from_reviews(run or None, codebook, settings.current().db, getpass.getuser())
    typer.echo(report.summary)


@app.command("list")
def list_(db: Db = None) -> None:
    """Every trained model with its cross-validated macro-F1; * marks the promoted one; a model below the
    promotion guard says what it lacks."""
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
def promote(version: str, db: Db = None) -> None:
    """Make VERSION the model that classify uses (an admin may promote a candidate below the guard: classify then
    refuses it unless --force)."""
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
    """Go back to the model promoted before the current one."""
    from review.model_registry import rollback as rollback_model

    version = rollback_model(open_store(), getpass.getuser())
    typer.echo(f"retour en arrière : le modèle {version} est de nouveau en service")
