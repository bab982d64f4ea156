"""The ``verbatims`` command: what analysts and report writers type."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pipeline.embed import DEFAULT_EMBEDDER

app = typer.Typer(
    help="Turn French open-ended survey answers into ranked themes with representative quotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """verbatims: French survey answers in, ranked themes with quotes out."""


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


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
    except InputError as exc:
        _fail(str(exc))

    # Prefect's telemetry write raced its own ephemeral server's SQLite ("database is locked" traceback).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.analyze import analyze_verbatims, preload_models

    preload_models()
    summary = analyze_verbatims(input_file, text_col, id_col, codebook, embedder, out)
    counts = summary.manifest["counts"]
    if not counts["units"]:
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts["excluded_by_reason"].items())
        _fail(
            f"no answer left to analyse: all {counts['excluded']} were set aside ({reasons}); "
            f"see {summary.out_dir}/excluded.csv"
        )
    typer.echo("")
    typer.echo(
        f"{counts['rows_in']} answers: {counts['respondents_kept']} analysed, {counts['excluded']} set aside "
        f"(see excluded.csv); {len(summary.themes)} themes."
    )
    for theme in summary.themes[:12]:
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share:>5.0%}  ({theme.n_respondents} respondents)")
    if len(summary.themes) > 12:
        typer.echo(f"     … and {len(summary.themes) - 12} more in themes.csv")
    typer.echo(f"\nResults: {summary.out_dir}/  (report.md, themes.csv/.json/.xlsx, assignments.csv, excluded.csv)")


if __name__ == "__main__":
    app()
