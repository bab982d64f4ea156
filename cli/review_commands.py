"""``verbatims review ...``: reviewers correct a run; every correction is an event that can be undone. And
``verbatims runs``, the runs there are to review."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.click_french import FrenchTyper
from cli.common import fail, open_store
from cli.options import Db, LabelArg, NetArg, Reviewer, RunArg, Seen, ThemeArg, UnitArg
from pipeline import settings
from pipeline.messages import action_name, decimal, plural, say

if TYPE_CHECKING:  # SQLAlchemy, for the annotation only
    from review.store import Store

app = FrenchTyper(
    help="Corriger les thèmes d'une analyse : renommer (rename), fusionner (merge), scinder (split), déplacer (move), "
    "ajouter un second thème (add), hors sujet (off-topic), confirmer (confirm), et leurs regroupements : rename-net, "
    "move-to-net, new-net, dissolve-net ; annuler (undo). Commencez par `verbatims review queue ANALYSE`.",
    no_args_is_help=True,
)


def _open_run(run: str) -> tuple[Store, str]:
    """The store and the run id that RUN names ('latest' is the run recorded last)."""
    store = open_store()
    return store, store.latest_run_id() if run == "latest" else run


def _correct(run: str, seen: int | None, action: str, **payload) -> None:
    from review.corrections import correct

    store, run_id = _open_run(run)
    event = correct(store, run_id, settings.current().reviewer or getpass.getuser(), action, seen, **payload)
    saved = say("correction.saved", seq=event.seq, action=action_name(action))
    typer.echo(f"{saved}. {say('correction.undo_hint', run_id=run_id, seq=event.seq)}")


def runs(
    db: Db = None, limit: Annotated[int, typer.Option("--limit", min=1, help="Nombre d'analyses à lister.")] = 20
) -> None:
    """Les analyses enregistrées dans la base de revue, la plus récente d'abord."""
    from sqlalchemy import select

    from review.store import EventRow, Run

    store = open_store()
    with store.session() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc()).limit(limit)).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    for run in rows:
        mark = say("cli.reviewed") if run.run_id in reviewed else ""
        model = say("cli.model", version=run.model_version) if run.model_version else ""
        kind = say(f"cli.kind.{run.kind}")
        typer.echo(f"{run.run_id:<36} {kind:<8} {run.created_at:%Y-%m-%d %H:%M}  {run.input_file:<30.30} {model} {mark}")


@app.command()
def show(run: RunArg, db: Db = None) -> None:
    """Les thèmes de l'analyse tels que revus à présent, dans leurs regroupements, avec leur nombre d'idées et la
    version de l'analyse."""
    from review.corrections import load_state

    store, run_id = _open_run(run)
    state = load_state(store, run_id)
    sizes = {t: len(state.members(t)) for t in state.themes}
    nets = state.nets()
    typer.echo(
        say(
            "cli.show",
            run_id=run_id,
            version=state.version,
            themes=plural(len(state.themes), "theme"),
            nets=plural(len(nets), "net"),
            reviewed=plural(len(state.reviewed), "reviewed_idea"),
            off_topic=len(state.off_topic),
        )
    )
    units_in = {net: len({u for t in codes for u in state.members(t)}) for net, codes in nets.items()}
    for net_id, codes in sorted(nets.items(), key=lambda kv: -units_in[kv[0]]):
        units = plural(units_in[net_id], "idea")
        typer.echo(say("cli.show_net", net_id=net_id, count=units, label=state.net_of(codes[0])[1]))
        for theme_id in sorted(codes, key=lambda t: -sizes[t]):
            units = plural(sizes[theme_id], "idea")
            typer.echo(say("cli.show_theme", theme_id=theme_id, count=units, label=state.themes[theme_id].label))


@app.command()
def units(
    run: RunArg,
    theme: ThemeArg,
    search: Annotated[str | None, typer.Option("--search", help="Seulement les idées qui contiennent ce texte.")] = None,
    db: Db = None,
) -> None:
    """Les idées d'un thème, avec leurs identifiants (pour scinder, déplacer ou confirmer)."""
    from review.corrections import load_state
    from review.runs import load_run

    store, run_id = _open_run(run)
    state = load_state(store, run_id)
    text_of = {u.unit_id: u.text for u in load_run(store, run_id).units}
    members = state.members(theme)
    if theme not in state.themes:
        fail(say("review.unknown_theme", theme=theme, run_id=run_id))
    shown = [u for u in members if not search or search.casefold() in text_of[u].casefold()]
    total = plural(len(members), "idea")
    typer.echo(say("cli.units", label=state.themes[theme].label, shown=len(shown), total=total, version=state.version))
    for unit_id in shown:
        typer.echo(f"  {unit_id:<24} {text_of[unit_id][:110]}")


@app.command()
def queue(
    run: RunArg,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Nombre d'idées à lister.")] = 20,
    wait: Annotated[
        bool, typer.Option("--wait", help="Après de nouvelles revues, attendre que le modèle de la file les apprenne.")
    ] = False,
    db: Db = None,
) -> None:
    """Les idées à revoir en premier, avec la réponse entière, le thème de la machine et pourquoi, et l'avancement.

    Avant 40 idées revues : une idée par regroupement à chaque tour, ses thèmes chacun à son tour, la plus proche
    du centre du thème, les regroupements qui ont le plus d'idées à revoir d'abord. Ensuite : les idées dont un
    modèle entraîné sur les revues déjà faites est le moins sûr ; après de nouvelles revues, la liste vient aussitôt
    du dernier modèle pendant qu'un processus en arrière-plan ajuste le suivant (--wait l'attend)."""
    from review.queue import queue_view, refit_detached

    store, run_id = _open_run(run)
    view = queue_view(store, run_id, limit, fresh=wait, in_thread=False)
    if view.behind:
        refit_detached(store, run_id)
    typer.echo(say("cli.queue", run_id=run_id, version=view.version))
    typer.echo(_progress_line(view))
    for item in view.items:
        typer.echo("\n" + _queue_item(item))


def _fr(x: float) -> str:
    return decimal(x, ".2f")


def _progress_line(view) -> str:
    from review.queue import MIN_REVIEWED_TO_LEARN

    p = view.progress
    f1 = _fr(p.held_out_f1) if p.held_out_f1 is not None else say("cli.queue_no_f1")
    learnt = plural(view.learnt_from, "reviewed_idea") if view.learnt_from is not None else ""
    if view.refitted:
        model = say("cli.queue_refitted", learnt=learnt)
    elif view.behind and view.learnt_from is None:
        model = say("cli.queue_first_fit", behind=plural(view.behind, "review"))
    elif view.behind:
        model = say("cli.queue_behind", learnt=learnt, behind=plural(view.behind, "new_review"))
    elif view.learnt_from is not None:
        model = say("cli.queue_learnt", learnt=learnt)
    else:
        model = say("cli.queue_not_learning", learnt=plural(MIN_REVIEWED_TO_LEARN, "reviewed_idea"))
    reviewed = plural(p.reviewed, "reviewed_idea")
    return say("cli.queue_progress", reviewed=reviewed, open=p.open, until=p.until_retrain, f1=f1, model=model)


def _queue_item(item) -> str:
    chance = say("cli.queue_chance", probability=_fr(item.probability)) if item.probability is not None else ""
    lines = [
        say("cli.queue_item", unit_id=item.unit_id, certainty=_fr(item.certainty)),
        f"  « {item.text[:200]} »",
        say("cli.queue_theme", theme_id=item.theme_id, label=item.theme_label, chance=chance),
    ]
    if item.also:
        lines.append(say("cli.queue_also", themes=" ; ".join(f"{t} {label}" for t, label in item.also)))
    if item.runner_up_id:
        lines.append(say("cli.queue_runner_up", theme_id=item.runner_up_id, label=item.runner_up_label))
    if item.reasons:
        lines.append(say("cli.queue_words", words=", ".join(item.reasons)))
    for n in item.neighbours:
        labels = " ; ".join(n.theme_labels)
        lines.append(say("cli.queue_neighbour", similarity=_fr(n.similarity), text=n.text[:80], labels=labels))
    return "\n".join(lines)


@app.command()
def rename(
    run: RunArg, theme: ThemeArg, label: LabelArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None
) -> None:
    """Donner au THÈME un nouveau LIBELLÉ."""
    _correct(run, seen, "rename", theme=theme, label=label)


@app.command()
def merge(
    run: RunArg,
    target: Annotated[str, typer.Argument(metavar="CIBLE", help="Le thème qui reste.")],
    sources: Annotated[list[str], typer.Argument(metavar="SOURCES", help="Les thèmes fusionnés dans la CIBLE.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Fusionner les SOURCES dans la CIBLE : leurs idées rejoignent la CIBLE, qui garde son libellé."""
    _correct(run, seen, "merge", target=target, sources=sources)


@app.command()
def split(
    run: RunArg,
    theme: ThemeArg,
    units: Annotated[list[str], typer.Argument(metavar="IDÉES", help="Les idées qui passent dans le nouveau thème.")],
    label: Annotated[str, typer.Option("--label", help="Libellé du nouveau thème.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Scinder le THÈME : les IDÉES passent dans un nouveau thème appelé --label."""
    _correct(run, seen, "split", theme=theme, units=units, label=label)


@app.command()
def move(
    run: RunArg,
    unit: UnitArg,
    to: Annotated[str | None, typer.Option("--to", help="Identifiant d'un thème existant.")] = None,
    new: Annotated[str | None, typer.Option("--new", help="Libellé d'un nouveau thème à créer.")] = None,
    source: Annotated[
        str | None, typer.Option("--from", help="Le thème qu'elle quitte (par défaut : son thème principal).")
    ] = None,
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Déplacer l'IDÉE vers un autre thème (--to) ou vers un nouveau thème (--new)."""
    if bool(to) == bool(new):
        fail(say("cli.move_either"))
    _correct(run, seen, "move", unit=unit, to=to, label=new, **{"from": source})


@app.command()
def add(run: RunArg, unit: UnitArg, theme: ThemeArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Donner à l'IDÉE un thème de plus (une idée peut appartenir à deux thèmes)."""
    _correct(run, seen, "add", unit=unit, theme=theme)


@app.command("off-topic")
def off_topic(run: RunArg, unit: UnitArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Marquer l'IDÉE hors sujet : elle quitte tous ses thèmes et figure dans excluded.csv."""
    _correct(run, seen, "off_topic", unit=unit)


@app.command()
def confirm(
    run: RunArg,
    units: Annotated[list[str], typer.Argument(metavar="IDÉES", help="Les idées dont les thèmes sont confirmés.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Confirmer les thèmes de la machine pour les IDÉES : elles comptent alors comme revues pour le réentraînement."""
    for unit in units:
        _correct(run, seen, "confirm", unit=unit)


@app.command("rename-net")
def rename_net(
    run: RunArg, net: NetArg, label: LabelArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None
) -> None:
    """Donner au REGROUPEMENT un nouveau LIBELLÉ (un thème seul forme son propre regroupement)."""
    _correct(run, seen, "rename_net", net=net, label=label)


@app.command("move-to-net")
def move_to_net(
    run: RunArg, theme: ThemeArg, net: NetArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None
) -> None:
    """Déplacer le THÈME vers le REGROUPEMENT existant : il quitte son regroupement."""
    _correct(run, seen, "move_to_net", theme=theme, net=net)


@app.command("new-net")
def new_net(
    run: RunArg,
    themes: Annotated[list[str], typer.Argument(metavar="THÈMES", help="Les thèmes qui forment le nouveau regroupement.")],
    label: Annotated[str, typer.Option("--label", help="Libellé du nouveau regroupement.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Réunir les THÈMES dans un nouveau regroupement appelé --label : ils quittent leurs regroupements."""
    _correct(run, seen, "new_net", themes=themes, label=label)


@app.command("dissolve-net")
def dissolve_net(run: RunArg, net: NetArg, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Défaire le REGROUPEMENT : chacun de ses thèmes devient son propre regroupement."""
    _correct(run, seen, "dissolve_net", net=net)


@app.command()
def undo(
    run: RunArg,
    event: Annotated[
        int | None, typer.Option("--event", help="Numéro de la correction (par défaut : votre dernière).")
    ] = None,
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Annuler une correction ; l'annulation est elle-même enregistrée."""
    _correct(run, seen, "undo", event=event)


@app.command()
def history(run: RunArg, db: Db = None) -> None:
    """Toutes les corrections de l'analyse : qui, quand, quoi, avant et après."""
    from review.corrections import history as events

    store, run_id = _open_run(run)
    for e in events(store, run_id):
        typer.echo(
            say(
                "cli.history",
                seq=e.seq,
                at=e.at,
                reviewer=e.reviewer,
                action=action_name(e.action),
                payload=e.payload,
                before=e.before,
                after=e.after,
            )
        )


@app.command()
def export(
    run: RunArg,
    out: Annotated[Path | None, typer.Option("--out", help="Dossier (par défaut : outputs/<analyse>-reviewed/).")] = None,
    db: Db = None,
) -> None:
    """Réécrire les fichiers de l'analyse telle que revue : rangs, parts et citations recalculés."""
    from review.runs import export_reviewed

    store, run_id = _open_run(run)
    out = out or Path("outputs") / f"{run_id}-reviewed"
    themes, manifest = export_reviewed(store, run_id, out)
    themes_count = plural(len(themes), "theme")
    typer.echo(say("cli.exported", run_id=run_id, version=manifest.review.version, themes=themes_count))
    for theme in themes[:12]:
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share * 100:>3.0f} %")
    typer.echo("\n" + say("summary.results", folder=out))
