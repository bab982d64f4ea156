"""classify_wave: the promoted theme model applied to a new file, compared with the previous wave."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote

from flows.params import DbUrl, InputFile, RunId
from flows.runtime import Timings, stage_key, task_runner
from flows.tasks import (
    AnalysisSummary,
    classify_task,
    clean_in_batches,
    default_out_dir,
    embed_in_batches,
    ingest_task,
    new_run_id,
    publish_run,
    rank_task,
)
from pipeline.analysis import Analysed, Analysis
from pipeline.export import ALERTS
from pipeline.records import ClusterResult
from review.classify import add_share_changes, drift_alerts, model_alerts, respondents_in
from review.model_registry import load_model
from review.runs import RunRecord, reviewed_shares
from review.store import Store


@flow(name="classify_wave", log_prints=True, task_runner=task_runner())
def classify_wave(
    input_path: InputFile,
    text_col: str | None = None,
    id_col: str | None = None,
    model_version: RunId | None = None,
    previous_run: RunId | None = None,
    out_dir: Path | None = None,
    db: DbUrl | None = None,
    question: str | None = None,
    force: bool = False,
    dedupe_ids: bool = False,
) -> AnalysisSummary:
    """Themes of a new wave with the promoted (or given) model; shares compared with ``previous_run``,
    by default the latest run the model was trained on.

    Args:
        input_path: Answers file of the new wave (.csv/.tsv, .xlsx, .jsonl or .parquet).
        text_col: Column holding the answers; guessed when empty.
        id_col: Column holding the respondent id; guessed when empty.
        model_version: Theme model to apply; default the promoted one.
        previous_run: Run to compare shares with; default the latest run the model learnt from.
        out_dir: Folder for the results; default outputs/<run id>/.
        db: Review store: a file path or a postgresql:// URL; default VERBATIMS_DB.
        question: The question asked, as the report's title; default the previous wave's question.
        force: Apply a model below the promotion guard anyway; the wave is flagged.
        dedupe_ids: Number the later answers of an id that carries several ("17-2") instead of refusing the file.
    """
    store = Store(db)
    row, model = load_model(store, model_version)
    alerts = model_alerts(row.version, row.metrics, force)
    previous_run = previous_run or row.runs[-1]
    store.run_exists(previous_run)
    timings = Timings()
    with store.session() as session:  # the previous wave: its nets and its question
        before = store.run(session, previous_run)
        # the nets the training run's codebook named, then those reviewers gave the model's themes
        named_nets = {**(before.parameters.get("codebook_nets") or {}), **model.named_nets()} or None
        question = question or before.question  # a new wave of the same survey asks the same question
    analysis = Analysis(model.embedder, named_nets=named_nets)
    with timings("ingest"):
        dataset = ingest_task(analysis, Path(input_path), text_col, id_col, dedupe_ids)
    key = stage_key(stage_key("ingest", dataset.input_sha256, text_col, id_col, dedupe_ids), "clean")
    with timings("clean"):
        cleaned = clean_in_batches(key, analysis, dataset)
    vectors, computed = None, 0
    clustered, themes = ClusterResult([], [], {"model": row.version}), []
    if cleaned.units:
        key = stage_key(key, "embed", model.embedder)
        with timings("embed"):
            vectors, computed = embed_in_batches(key, analysis, [u.text for u in cleaned.units])
        key = stage_key(key, "classify", row.version)
        with timings("classify"):
            clustered, cleaned, vectors = classify_task(key, quote(model), row.version, quote(cleaned), quote(vectors))
    if cleaned.units:
        with timings("rank"):
            themes = rank_task(  # the settings name the nets
                stage_key(key, "rank", analysis), analysis, quote(clustered), quote(cleaned), quote(vectors), quote(dataset)
            )
        previous, n_before = reviewed_shares(store, previous_run), respondents_in(store, previous_run)
        n_after = len({u.respondent_id for u in cleaned.units})
        add_share_changes(themes, previous, n_before, n_after)
        alerts += drift_alerts(themes, previous, n_before, n_after, model)
    analysed = Analysed(dataset, cleaned, clustered, themes, vectors, computed)
    run_id = new_run_id(dataset.input_sha256)
    out_dir = Path(out_dir) if out_dir else default_out_dir(run_id)
    manifest = analysis.manifest(run_id, Path(input_path), analysed, None, timings.seconds, question)
    manifest.model_version, manifest.previous_run_id = row.version, previous_run
    manifest.parameters[ALERTS] = alerts
    record = RunRecord(
        manifest, dataset, cleaned, clustered, model.embedder, out_dir, "classify", row.version, previous_run, themes
    )
    publish_run(db, record, analysed.bundle(manifest), timings)
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)
