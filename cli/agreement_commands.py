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
from pipeline.messages import decimal, plural, say

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
    return say("cli.not_computable") if value is None else decimal(value, ".3f")


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
    coders = say("cli.and").join(p.strip() for p in pair)
    typer.echo(say("cli.double_coding", units=plural(len(units), "entrusted_idea"), pair=coders))
    typer.echo(say("cli.double_coding_next", run_id=run_id))


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
    typer.echo(say("cli.coded", unit=unit, reviewer=_me(), themes=", ".join(stored)))


def agreement(run: RunArg, db: Db = None) -> None:
    """L'accord entre les deux codeurs et avec la machine, global et par thème, et les désaccords."""
    from review.agreement import agreement as report_of

    store, run_id = _open_run(run)
    for line in report_lines(report_of(store, run_id)):
        typer.echo(line)


def report_lines(report: AgreementReport) -> list[str]:
    coded = ", ".join(f"{r} {report.coded.get(r, 0)}" for r in report.reviewers) or say("cli.agreement_no_coder")
    first, second = report.reviewers if len(report.reviewers) == 2 else (say("cli.coder", n=1), say("cli.coder", n=2))
    assigned, both = plural(report.assigned, "idea"), plural(report.both, "coded")
    lines = [
        say("cli.agreement", run_id=report.run_id, assigned=assigned, coded=coded, both=both),
        say(
            "cli.agreement_main",
            alpha=_figure(report.alpha),
            kappa=_figure(report.kappa),
            agreement=_figure(report.agreement),
        ),
        "",
        say("cli.agreement_per_theme"),
        f"  {say('cli.agreement_theme'):<40} {first[:8]:>8} {second[:8]:>8} {'kappa':>15} {'alpha':>15}",
    ]
    for t in report.themes:
        lines.append(f"  {t.label[:40]:<40} {t.counts[0]:>8} {t.counts[1]:>8} {_figure(t.kappa):>15} {_figure(t.alpha):>15}")
    lines += ["", say("cli.agreement_machine")]
    lines += [
        say("cli.agreement_machine_line", reviewer=m.reviewer, kappa=_figure(m.kappa), agreement=_figure(m.agreement))
        for m in report.machine
    ]
    verdict = {True: "cli.agreement_at_par", False: "cli.agreement_below", None: "cli.agreement_unknown"}
    lines.append(say("cli.agreement_verdict", verdict=say(verdict[report.machine_at_par])))
    lines += ["", say("cli.disagreements", n=len(report.disagreements), settled=plural(report.settled, "settled"))]
    for d in report.disagreements:
        seen = " | ".join(f"{r} : {', '.join(d.codings[r])}" for r in d.codings)
        mark = say("cli.settled_by", reviewer=d.settled_by) if d.settled else say("cli.to_settle")
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
    typer.echo(say("cli.settled", seq=event.seq, unit=unit, reviewer=event.reviewer, run_id=run_id))
