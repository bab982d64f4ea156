"""``verbatims review ...``: reviewers correct a run; every correction is an event that can be undone. And
``verbatims runs``, the runs there are to review."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import fail, open_store
from cli.options import Db, Reviewer, RunArg, Seen
from pipeline import settings
from pipeline.messages import action_name, say

if TYPE_CHECKING:  # SQLAlchemy, for the annotation only
    from review.store import Store

app = typer.Typer(
    help="Correct a run's themes: rename, merge, split, move, add a second theme, off-topic, confirm, and their "
    "nets: rename-net, move-to-net, new-net, dissolve-net; undo. "
    "Start with `verbatims review queue RUN`.",
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


def runs(db: Db = None, limit: Annotated[int, typer.Option("--limit", min=1)] = 20) -> None:
    """Runs recorded in the review store, latest first."""
    from sqlalchemy import select

    from review.store import EventRow, Run

    store = open_store()
    with store.session() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc()).limit(limit)).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    for run in rows:
        mark = "reviewed" if run.run_id in reviewed else ""
        model = f"model {run.model_version}" if run.model_version else ""
        typer.echo(f"{run.run_id:<36} {run.kind:<8} {run.created_at:%Y-%m-%d %H:%M}  {run.input_file:<30.30} {model} {mark}")


@app.command()
def show(run: RunArg, db: Db = None) -> None:
    """The run's themes as reviewed now, in their nets, with their number of units and the run version."""
    from review.corrections import load_state

    store, run_id = _open_run(run)
    state = load_state(store, run_id)
    sizes = {t: len(state.members(t)) for t in state.themes}
    nets = state.nets()
    typer.echo(
        f"run {run_id}, version {state.version}: {len(state.themes)} themes in {len(nets)} nets, "
        f"{len(state.reviewed)} units reviewed, {len(state.off_topic)} off-topic"
    )
    units_in = {net: len({u for t in codes for u in state.members(t)}) for net, codes in nets.items()}
    for net_id, codes in sorted(nets.items(), key=lambda kv: -units_in[kv[0]]):
        typer.echo(f"net {net_id:<20} {units_in[net_id]:>5} units  {state.net_of(codes[0])[1]}")
        for theme_id in sorted(codes, key=lambda t: -sizes[t]):
            typer.echo(f"  {theme_id:<18} {sizes[theme_id]:>5} units  {state.themes[theme_id].label}")


@app.command()
def units(
    run: RunArg,
    theme: Annotated[str, typer.Argument(help="Theme id.")],
    search: Annotated[str | None, typer.Option("--search", help="Only units containing this text.")] = None,
    db: Db = None,
) -> None:
    """The idea units of a theme (ids to split, move or confirm)."""
    from review.corrections import load_state
    from review.runs import load_run

    store, run_id = _open_run(run)
    state = load_state(store, run_id)
    text_of = {u.unit_id: u.text for u in load_run(store, run_id).units}
    members = state.members(theme)
    if theme not in state.themes:
        fail(say("review.unknown_theme", theme=theme, run_id=run_id))
    shown = [u for u in members if not search or search.casefold() in text_of[u].casefold()]
    typer.echo(f"{state.themes[theme].label}: {len(shown)} of {len(members)} units (version {state.version})")
    for unit_id in shown:
        typer.echo(f"  {unit_id:<24} {text_of[unit_id][:110]}")


@app.command()
def queue(
    run: RunArg,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Items to list.")] = 20,
    wait: Annotated[bool, typer.Option("--wait", help="After new reviews, wait for the queue model to learn them.")] = False,
    db: Db = None,
) -> None:
    """Units most worth a look first, with the whole answer, the machine's theme and why, and the progress.
    Before 40 units are reviewed: one unit per theme in each round, the one nearest the theme's centre, the
    themes with the most open units first. Then: the units a model trained on the reviews so far is least sure
    of; after new reviews the list comes at once from the last model while a background process fits the next
    (``--wait`` waits for it)."""
    from review.queue import queue_view, refit_detached

    store, run_id = _open_run(run)
    view = queue_view(store, run_id, limit, fresh=wait, in_thread=False)
    if view.behind:
        refit_detached(store, run_id)
    typer.echo(f"File de revue du run {run_id}, version {view.version} (passez --seen {view.version} avec vos corrections)")
    typer.echo(_progress_line(view))
    for item in view.items:
        typer.echo("\n" + _queue_item(item))


def _fr(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def _progress_line(view) -> str:
    from review.queue import MIN_REVIEWED_TO_LEARN

    p = view.progress
    f1 = _fr(p.held_out_f1) if p.held_out_f1 is not None else "pas encore"
    if view.refitted:
        model = f"nouvelles revues : modèle de la file réajusté sur {view.learnt_from} unités revues"
    elif view.behind and view.learnt_from is None:
        model = (
            f"la file apprend de vos {view.behind} revues en arrière-plan (--wait pour l'attendre), ordre de la "
            "machine en attendant"
        )
    elif view.behind:
        model = (
            f"modèle de la file appris sur {view.learnt_from} unités revues ; il apprend vos {view.behind} nouvelles "
            "revues en arrière-plan (--wait pour les attendre)"
        )
    elif view.learnt_from is not None:
        model = f"modèle de la file appris sur {view.learnt_from} unités revues, rien de nouveau depuis"
    else:
        model = f"la file apprendra de vos revues à partir de {MIN_REVIEWED_TO_LEARN} unités revues"
    return (
        f"{p.reviewed} unités revues, {p.open} à revoir ; encore {p.until_retrain} avant qu'un réentraînement vaille "
        f"la peine ; F1 hors échantillon : {f1} ; {model}"
    )


def _queue_item(item) -> str:
    chance = f" (probabilité {_fr(item.probability)})" if item.probability is not None else ""
    lines = [
        f"{item.unit_id}  certitude {_fr(item.certainty)}",
        f"  « {item.text[:200]} »",
        f"  thème : {item.theme_id} {item.theme_label}{chance}",
    ]
    if item.runner_up_id:
        lines.append(f"  ou : {item.runner_up_id} {item.runner_up_label}")
    if item.reasons:
        lines.append("  mots : " + ", ".join(item.reasons))
    for n in item.neighbours:
        lines.append(f"  revue proche ({_fr(n.similarity)}) : « {n.text[:80]} » → {' ; '.join(n.theme_labels)}")
    return "\n".join(lines)


@app.command()
def rename(run: RunArg, theme: str, label: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Give THEME a new LABEL."""
    _correct(run, seen, "rename", theme=theme, label=label)


@app.command()
def merge(
    run: RunArg,
    target: Annotated[str, typer.Argument(help="Theme that stays.")],
    sources: Annotated[list[str], typer.Argument(help="Themes merged into TARGET.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Merge SOURCES into TARGET: their units join TARGET, which keeps its label."""
    _correct(run, seen, "merge", target=target, sources=sources)


@app.command()
def split(
    run: RunArg,
    theme: str,
    units: Annotated[list[str], typer.Argument(help="Units that move to the new theme.")],
    label: Annotated[str, typer.Option("--label", help="Label of the new theme.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Split THEME: UNITS move to a new theme called LABEL."""
    _correct(run, seen, "split", theme=theme, units=units, label=label)


@app.command()
def move(
    run: RunArg,
    unit: str,
    to: Annotated[str | None, typer.Option("--to", help="Existing theme id.")] = None,
    new: Annotated[str | None, typer.Option("--new", help="Label of a new theme to create.")] = None,
    source: Annotated[str | None, typer.Option("--from", help="Theme it leaves (default: its main theme).")] = None,
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Move UNIT to another theme (--to) or to a new one (--new)."""
    if bool(to) == bool(new):
        fail("give either --to THEME or --new LABEL")
    _correct(run, seen, "move", unit=unit, to=to, label=new, **{"from": source})


@app.command()
def add(run: RunArg, unit: str, theme: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Give UNIT a further theme (an idea can belong to two themes)."""
    _correct(run, seen, "add", unit=unit, theme=theme)


@app.command("off-topic")
def off_topic(run: RunArg, unit: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Mark UNIT as off-topic: it leaves every theme and is listed in excluded.csv."""
    _correct(run, seen, "off_topic", unit=unit)


@app.command()
def confirm(run: RunArg, units: list[str], reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Confirm the machine's themes for UNITS: they then count as reviewed for retraining."""
    for unit in units:
        _correct(run, seen, "confirm", unit=unit)


@app.command("rename-net")
def rename_net(run: RunArg, net: str, label: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Give NET (a net id from `review show`; a code alone is its own net) a new LABEL."""
    _correct(run, seen, "rename_net", net=net, label=label)


@app.command("move-to-net")
def move_to_net(run: RunArg, theme: str, net: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Move THEME (a code) to the existing NET: it leaves its net."""
    _correct(run, seen, "move_to_net", theme=theme, net=net)


@app.command("new-net")
def new_net(
    run: RunArg,
    themes: Annotated[list[str], typer.Argument(help="Themes (codes) that form the new net.")],
    label: Annotated[str, typer.Option("--label", help="Label of the new net.")],
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Put THEMES in a new net called LABEL: they leave their nets."""
    _correct(run, seen, "new_net", themes=themes, label=label)


@app.command("dissolve-net")
def dissolve_net(run: RunArg, net: str, reviewer: Reviewer = None, seen: Seen = None, db: Db = None) -> None:
    """Dissolve NET: each of its codes becomes a net of its own."""
    _correct(run, seen, "dissolve_net", net=net)


@app.command()
def undo(
    run: RunArg,
    event: Annotated[int | None, typer.Option("--event", help="Correction number (default: your last one).")] = None,
    reviewer: Reviewer = None,
    seen: Seen = None,
    db: Db = None,
) -> None:
    """Undo a correction; the undo is itself recorded."""
    _correct(run, seen, "undo", event=event)


@app.command()
def history(run: RunArg, db: Db = None) -> None:
    """Every correction of the run: who, when, what, before and after."""
    from review.corrections import history as events

    store, run_id = _open_run(run)
    for e in events(store, run_id):
        typer.echo(
            f"#{e.seq} {e.at:%Y-%m-%d %H:%M} {e.reviewer} {e.action} {e.payload}\n    before {e.before}\n"
            f"    after  {e.after}"
        )


@app.command()
def export(
    run: RunArg,
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default: outputs/<run>-reviewed/).")] = None,
    db: Db = None,
) -> None:
    """Write the run's files again as reviewed: ranks, shares and quotes recomputed."""
    from review.runs import export_reviewed

    store, run_id = _open_run(run)
    out = out or Path("outputs") / f"{run_id}-reviewed"
    themes, manifest = export_reviewed(store, run_id, out)
    typer.echo(f"run {run_id} as reviewed (version {manifest.review.version}): {len(themes)} themes")
    for theme in themes[:12]:
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share:>5.0%}")
    typer.echo(f"\nResults: {out}/")
