"""analyze_verbatims: an answers file to ranked themes, one Prefect task per stage of ``pipeline.analysis``.

The tasks, their batching, caching and retries are in ``flows.tasks``; this flow reads as the script it is.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from flows.params import CodebookFile, DbUrl, EmbedderName, InputFile, TextFile
from flows.runtime import Timings, stage_key, task_runner
from flows.tasks import (
    AnalysisSummary,
    clean_in_batches,
    default_out_dir,
    embed_in_batches,
    ingest_task,
    new_run_id,
    publish_run,
    rank_task,
    recall_reviews_task,
    themes_or_placement,
)
from pipeline.analysis import Analysed, Analysis
from pipeline.codebook import load_codebook, load_stop_words
from pipeline.records import ClusterResult
from pipeline.settings import DEFAULT_EMBEDDER
from review.runs import RunRecord

__all__ = ["AnalysisSummary", "analyze_verbatims"]


@flow(name="analyze_verbatims", log_prints=True, task_runner=task_runner())
def analyze_verbatims(
    input_path: InputFile,
    text_col: str | None = None,
    id_col: str | None = None,
    codebook_path: CodebookFile | None = None,
    embedder: EmbedderName = DEFAULT_EMBEDDER,
    out_dir: Path | None = None,
    db: DbUrl | None = None,
    stop_words_path: TextFile | None = None,
    question: str | None = None,
    dedupe_ids: bool = False,
    recluster: bool = False,
) -> AnalysisSummary:
    """French answers in a file to ranked themes with quotes, written to ``out_dir`` and recorded in the store.

    Args:
        input_path: Answers file (.csv/.tsv, .xlsx, .jsonl or .parquet), relative to the served folder.
        text_col: Column holding the answers; guessed when empty.
        id_col: Column holding the respondent id; guessed when empty.
        codebook_path: YAML codebook of expected themes, which gives them their labels.
        embedder: use-multilingual (default), minilm, or a sentence-transformers model path.
        out_dir: Folder for the results; default outputs/<run id>/.
        db: Review store: a file path or a postgresql:// URL; default VERBATIMS_DB.
        stop_words_path: Text file of the question's own words (one per line), kept out of theme keywords.
        question: The question asked, as the report's title; default the codebook's question, else the file name.
        dedupe_ids: Number the later answers of an id that carries several ("17-2") instead of refusing the file.
        recluster: Find the themes again even when few answers changed since the last run with these settings
            (by default their new ideas are placed in its themes).
    """
    timings = Timings()
    analysis = Analysis(
        embedder,
        load_codebook(Path(codebook_path)) if codebook_path else None,
        stop_words=load_stop_words(Path(stop_words_path)) if stop_words_path else (),
    )
    with timings("ingest"):
        dataset = ingest_task(analysis, Path(input_path), text_col, id_col, dedupe_ids)
    key = stage_key(stage_key("ingest", dataset.input_sha256, text_col, id_col, dedupe_ids), "clean")
    with timings("clean"):
        cleaned = clean_in_batches(key, analysis, dataset)
    vectors, computed, carried = None, 0, {}
    if cleaned.units:
        key = stage_key(key, "embed", embedder)
        with timings("embed"):
            vectors, computed = embed_in_batches(key, analysis, [u.text for u in cleaned.units])
        with timings("recall"):
            cleaned, vectors, carried = recall_reviews_task(db, quote(cleaned), quote(vectors))
    clustered, themes = ClusterResult(themes=[], assignments=[], parameters={}), []
    if cleaned.units:
        reviewed = sorted(carried.items())
        key = stage_key(key, "cluster", analysis, reviewed)  # the settings name the codebook
        with timings("cluster"):
            placer_key = stage_key("placer", analysis, reviewed)
            clustered, key = themes_or_placement(key, placer_key, analysis, cleaned, vectors, carried, recluster)
        with timings("rank"):
            themes = rank_task(
                stage_key(key, "rank"), analysis, quote(clustered), quote(cleaned), quote(vectors), quote(dataset)
            )
    else:  # every answer was set aside: still write why, so nothing is lost
        get_run_logger().warning("no answer left to analyse: all %d were set aside", len(cleaned.excluded))
    analysed = Analysed(dataset, cleaned, clustered, themes, vectors, computed)
    run_id = new_run_id(dataset.input_sha256)
    out_dir = Path(out_dir) if out_dir else default_out_dir(run_id)
    manifest = analysis.manifest(run_id, Path(input_path), analysed, codebook_path, timings.seconds, question)
    record = RunRecord(manifest, dataset, cleaned, clustered, embedder, out_dir, themes=themes)
    publish_run(db, record, analysed.bundle(manifest), timings)
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)
