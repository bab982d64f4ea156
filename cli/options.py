"""The options and arguments several commands share, defined once.

A flag the user gives is applied to the settings as soon as it is parsed (``settings.configure``); commands,
the flows and the store then read ``settings.current()``. So a command declares ``db: Db = None`` to offer
``--db`` and does not pass the value on, and ``VERBATIMS_*`` variables are read only by the settings.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline import settings
from pipeline.messages import say


def _setting(flag: str, field: str, help: str) -> object:
    """An option whose value, when given, goes to the settings field ``field`` as soon as it is parsed."""

    def apply(value: str | None) -> str | None:
        settings.configure(**{field: value})
        return value

    return typer.Option(flag, help=help, callback=apply)


Db = Annotated[
    str | None,
    _setting(
        "--db",
        "db",
        "Base de revue : un fichier ou une adresse postgresql:// (par défaut : VERBATIMS_DB, sinon "
        "outputs/verbatims.sqlite).",
    ),
]
Runner = Annotated[
    str | None,
    _setting(
        "--task-runner",
        "task_runner",
        f"Où s'exécutent les tâches : {say('runner.choices')}. Par défaut : VERBATIMS_TASK_RUNNER, sinon threads.",
    ),
]
Reviewer = Annotated[
    str | None,
    _setting("--reviewer", "reviewer", "Qui corrige (par défaut : VERBATIMS_REVIEWER, sinon votre nom de session)."),
]
Seen = Annotated[
    int | None,
    typer.Option(
        "--seen",
        help="Version de l'analyse que montrait votre vue (affichée par show et queue). Une correction faite sur une "
        "vue antérieure à une modification des mêmes éléments par quelqu'un d'autre est refusée.",
    ),
]
RunArg = Annotated[
    str,
    typer.Argument(
        metavar="ANALYSE", help="Identifiant de l'analyse (voir `verbatims runs`), ou `latest` pour la dernière."
    ),
]
ThemeArg = Annotated[str, typer.Argument(metavar="THÈME", help="Identifiant du thème (voir `verbatims review show`).")]
UnitArg = Annotated[str, typer.Argument(metavar="IDÉE", help="Identifiant de l'idée (voir `verbatims review units`).")]
NetArg = Annotated[
    str, typer.Argument(metavar="REGROUPEMENT", help="Identifiant du regroupement (voir `verbatims review show`).")
]
LabelArg = Annotated[str, typer.Argument(metavar="LIBELLÉ", help="Nouveau libellé.")]

DedupeIds = Annotated[
    bool,
    typer.Option(
        "--dedupe-ids",
        help="Numéroter les réponses suivantes d'un identifiant qui en porte plusieurs (« 17 », « 17-2 ») au lieu "
        "de refuser le fichier.",
    ),
]

Recluster = Annotated[
    bool,
    typer.Option(
        "--recluster",
        help="Regrouper les thèmes à nouveau. Par défaut, quand peu d'idées ont changé depuis la dernière analyse "
        "aux mêmes réglages (2 % au plus), les nouvelles sont placées dans ses thèmes, qui restent les mêmes.",
    ),
]

Yes = Annotated[bool, typer.Option("--yes", help="Ne pas demander de confirmation.")]


def confirm_or_stop(question: str, yes: bool) -> None:
    """What cannot be undone asks first (``--yes`` answers for scripts); no answer is a no."""
    if not yes and not typer.confirm(question, default=False):
        typer.echo(say("erase.cancelled"))
        raise typer.Exit(code=1)
