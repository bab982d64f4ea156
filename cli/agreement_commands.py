"""``verbatims review double-code / code / agreement / settle``: agreement between coders, in French.

Two reviewers code the same units blind to each other; the report gives Krippendorff's alpha and Cohen's
kappa, overall and per theme, the machine's kappa against each reviewer, and the disagreements a third
reviewer settles.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from cli.options import Db, Reviewer, RunArg, UnitArg
from cli.review_commands import _open_run
from pipeline import settings

if TYPE_CHECKING:
    from review.agreement import AgreementReport

Themes = Annotated[
    str,
    typer.Option(
        "--themes", help="Identifiants des thèmes, séparés par des virgules, le principal d'abord (« hors-sujet » possible)."
    ),
]


def _me() -> str:
    return settings.current().reviewer or getpass.getuser()


def _figure(value: float | None) -> str:
    return "non calculable" if value is None else f"{value:.3f}".replace(".", ",")


def double_code(
    run: RunArg,
    reviewers: Annotated[str, typer.Option("--reviewers", help="Les deux codeurs, séparés par une virgule : ana,bob.")],
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Nombre d'idées à ajouter à l'échantillon en double codage.")
    ] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Graine du tirage au sort (même graine, mêmes idées).")] = 0,
    reviewer: Reviewer = None,
    db: Db = None,
) -> None:
    """Confier --sample idées de plus de l'ANALYSE (tirées dans chaque thème) à deux codeurs, qui les codent en
    aveugle."""
    from review.double_coding import assign

    store, run_id = _open_run(run)
    pair = reviewers.split(",")
    units = assign(store, run_id, sample, pair, by=_me(), seed=seed)
    typer.echo(f"{len(units)} idées confiées à {' et '.join(p.strip() for p in pair)} pour un codage en aveugle.")
    typer.echo(f"Chacun code sur la page /runs/{run_id}/coding ; l'accord : verbatims review agreement {run_id}")


def code(
    run: RunArg,
    unit: UnitArg,
    themes: Themes,
    reviewer: Reviewer = None,
    db: Db = None,
) -> None:
    """Coder l'IDÉE en aveugle, en tant que le codeur à qui elle a été confiée (--reviewer)."""
    from review.double_coding import code as code_unit

    store, run_id = _open_run(run)
    stored = code_unit(store, run_id, unit, _me(), themes.split(","))
    typer.echo(f"idée {unit} codée par {_me()} : {', '.join(stored)}")


def agreement(run: RunArg, db: Db = None) -> None:
    """L'accord entre les deux codeurs et avec la machine, global et par thème, et les désaccords."""
    from review.agreement import agreement as report_of

    store, run_id = _open_run(run)
    for line in report_lines(report_of(store, run_id)):
        typer.echo(line)


def report_lines(report: AgreementReport) -> list[str]:
    coded = ", ".join(f"{r} {report.coded.get(r, 0)}" for r in report.reviewers) or "aucun codeur"
    first, second = report.reviewers if len(report.reviewers) == 2 else ("codeur 1", "codeur 2")
    lines = [
        f"Analyse {report.run_id} : {report.assigned} idées en double codage ({coded} codées), "
        f"{report.both} codées par les deux.",
        f"Thème principal — alpha de Krippendorff (nominal) : {_figure(report.alpha)} ; "
        f"kappa de Cohen : {_figure(report.kappa)} ; accord brut : {_figure(report.agreement)}",
        "",
        "Par thème (présence ou absence) :",
        f"  {'thème':<40} {first[:8]:>8} {second[:8]:>8} {'kappa':>15} {'alpha':>15}",
    ]
    for t in report.themes:
        lines.append(f"  {t.label[:40]:<40} {t.counts[0]:>8} {t.counts[1]:>8} {_figure(t.kappa):>15} {_figure(t.alpha):>15}")
    lines += ["", "La machine face à chaque codeur (thème principal, mêmes idées) :"]
    lines += [f"  {m.reviewer:<20} kappa {_figure(m.kappa)} ; accord brut {_figure(m.agreement)}" for m in report.machine]
    verdict = {True: "au niveau", False: "en dessous", None: "pas encore mesurable"}[report.machine_at_par]
    lines.append(f"  La machine est {verdict} de l'accord entre les deux codeurs.")
    lines += ["", f"Désaccords : {len(report.disagreements)}, dont {report.settled} tranchés."]
    for d in report.disagreements:
        seen = " | ".join(f"{r} : {', '.join(d.codings[r])}" for r in d.codings)
        mark = f"tranché par {d.settled_by}" if d.settled else "à trancher"
        lines.append(f"  {d.unit_id:<16} {mark:<22} {seen}  « {d.text[:80]} »")
    return lines


def settle(
    run: RunArg,
    unit: UnitArg,
    themes: Themes,
    reviewer: Reviewer = None,
    db: Db = None,
) -> None:
    """Trancher un désaccord sur l'IDÉE, en tiers : ses thèmes deviennent ceux de --themes (une correction, qu'on
    peut annuler)."""
    from review.agreement import settle as settle_unit

    store, run_id = _open_run(run)
    event = settle_unit(store, run_id, unit, _me(), themes.split(","))
    typer.echo(
        f"#{event.seq} désaccord sur l'idée {unit} tranché par {event.reviewer}. "
        f"Annuler : verbatims review undo {run_id} --event {event.seq}"
    )
