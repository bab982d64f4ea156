"""The ``verbatims`` command: what analysts and report writers type."""

from __future__ import annotations

import getpass
import os
import threading
from pathlib import Path
from typing import Annotated

import typer

from flows import cli_models, cli_review
from flows.cli_common import fail, open_store
from pipeline.embed import DEFAULT_EMBEDDER

Db = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="VERBATIMS_DB", help="Review store: a file (default outputs/verbatims.sqlite) or a postgresql:// URL."
    ),
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


def _warm_up() -> threading.Thread:
    """Start what takes seconds before the flow needs it: Prefect's API, spaCy and BERTopic (torch, umap).

    A re-run on cached texts spends more time starting than analysing; these overlap with checking the input.
    """

    def start_prefect() -> None:
        from prefect.client.orchestration import get_client

        try:
            get_client(sync_client=True)  # starts the temporary local server when no PREFECT_API_URL is set
        except Exception:  # too slow to start: stop it rather than leave it running; the flow starts its own
            from prefect.server.api.server import SubprocessASGIServer

            SubprocessASGIServer().stop()

    def load_models() -> None:
        from pipeline.clean import load_spacy

        load_spacy()
        import bertopic  # noqa: F401

    threading.Thread(target=load_models, name="load-models", daemon=True).start()
    server = threading.Thread(target=start_prefect, name="start-prefect", daemon=True)
    server.start()
    return server  # join before the flow runs: Prefect's server start is not thread-safe (two servers, one port)


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
) -> None:
    """Analyse INPUT and write ranked themes, quotes, assignments and a report.

    Other columns of INPUT are kept as respondent segments (e.g. maturity level): each theme's
    share is broken down by them. Non-answers ("RAS", "je ne sais pas"), duplicates and
    non-French answers are set aside in excluded.csv with the reason.

    Example: verbatims analyze answers.csv --codebook codebook.yaml --out outputs/wave-2025
    """
    from pipeline.codebook import load_codebook
    from pipeline.embed import load_embedder
    from pipeline.errors import InputError
    from pipeline.ingest import ingest

    try:  # check what the user gave before the flow starts, so mistakes get one line, not a failed run
        ingest(input_file, text_col, id_col)
        if codebook:
            load_codebook(codebook)
        load_embedder(embedder)
        open_store(db)
    except InputError as exc:
        fail(str(exc))

    _start_flows()
    server = _warm_up()  # only now: a thread starting a server must not be cut short by an input error
    from flows.analyze import analyze_verbatims

    server.join()

    summary = analyze_verbatims(input_file, text_col, id_col, codebook, embedder, out, db)
    counts = summary.manifest["counts"]
    if not counts["units"]:
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts["excluded_by_reason"].items())
        fail(
            f"no answer left to analyse: all {counts['excluded']} were set aside ({reasons}); "
            f"see {summary.out_dir}/excluded.csv"
        )
    print_summary(summary)


def print_summary(summary) -> None:
    counts = summary.manifest["counts"]
    typer.echo("")
    typer.echo(
        f"{counts['rows_in']} answers: {counts['respondents_kept']} analysed, {counts['excluded']} set aside "
        f"(see excluded.csv); {len(summary.themes)} themes."
    )
    for theme in summary.themes[:12]:
        change = f"  {theme.change_pts:+.1f} pt" if theme.change_pts is not None else ("  new?" if theme.proposed else "")
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share:>5.0%}  ({theme.n_respondents} respondents){change}")
    if len(summary.themes) > 12:
        typer.echo(f"     … and {len(summary.themes) - 12} more in themes.csv")
    typer.echo(f"\nResults: {summary.out_dir}/  (report.md, themes.csv/.json/.xlsx, assignments.csv, excluded.csv)")
    typer.echo(f"Review: verbatims review queue {summary.run_id}")


def _start_flows() -> None:
    # Prefect's telemetry write raced its own ephemeral server's SQLite ("database is locked" traceback).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's 20 s to start its temporary server ran out on a busy 2-core machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@app.command()
def runs(db: Db = None, limit: Annotated[int, typer.Option("--limit", min=1)] = 20) -> None:
    """Runs recorded in the review store, latest first."""
    from sqlalchemy import select

    from pipeline.store import EventRow, Run

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
    from pipeline.errors import InputError

    _start_flows()
    from flows.retrain import retrain_from_reviews

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
) -> None:
    """Apply the trained theme model to a new wave: known themes keep their ids and labels, uncertain
    answers are grouped into proposed new themes, and each share is compared with the previous wave."""
    from pipeline.errors import InputError
    from pipeline.ingest import ingest
    from pipeline.registry import load_model

    try:
        ingest(input_file, text_col, id_col)
        load_model(open_store(db), model)
    except InputError as exc:
        fail(exc)
    _start_flows()
    from flows.classify import classify_wave

    try:
        summary = classify_wave(input_file, text_col, id_col, model, previous, out, db)
    except InputError as exc:
        fail(exc)
    print_summary(summary)


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

    _start_flows()
    store = open_store(db)
    typer.echo(f"verbatims web page: http://{host}:{port}/  (store {store.shown_url}; Ctrl-C to stop)")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


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
    from pipeline.users import add_user

    try:
        add_user(open_store(db), username, password, role)
    except InputError as exc:
        fail(exc)
    typer.echo(f"user {username} ({role}) saved")


app.add_typer(users_app, name="users")
app.add_typer(cli_review.app, name="review")
app.add_typer(cli_models.app, name="models")


if __name__ == "__main__":
    app()
