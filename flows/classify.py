"""classify_wave: the promoted theme model applied to a new file, compared with the previous wave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from prefect import flow, get_run_logger, task

from flows.analyze import (
    AnalysisSummary,
    Timer,
    build_manifest,
    clean_in_batches,
    default_out_dir,
    embed_in_batches,
    export_task,
    ingest_task,
    new_run_id,
    rank_task,
    record_task,
)
from flows.params import DbUrl, InputFile, RunId
from flows.runtime import RESUMABLE, stage_key, task_runner
from pipeline.ingest import file_sha256
from pipeline.records import CleanResult, ClusterResult
from review.classify import add_share_changes, classify_units
from review.model_registry import load_model
from review.runs import reviewed_shares
from review.store import Store


@task(name="classify", **RESUMABLE)
def classify_task(key: str, model, version: str, cleaned: CleanResult, vectors: np.ndarray):
    result, keep, off_topic = classify_units(model, version, cleaned.units, vectors)
    get_run_logger().info(
        "model %s: %d units in known themes, %d unsure (%d new themes proposed), %d off-topic",
        version,
        len(keep) - result.parameters["unsure_units"],
        result.parameters["unsure_units"],
        result.parameters["proposed_themes"],
        len(off_topic),
    )
    return result, CleanResult([cleaned.units[i] for i in keep], cleaned.excluded + off_topic), vectors[keep]


@flow(name="classify_wave", log_prints=True, task_runner=task_runner())
def classify_wave(
    input_path: InputFile,
    text_col: str | None = None,
    id_col: str | None = None,
    model_version: RunId | None = None,
    previous_run: RunId | None = None,
    out_dir: Path | None = None,
    db: DbUrl | None = None,
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
    """
    store = Store(db)
    row, model = load_model(store, model_version)
    previous_run = previous_run or row.runs[-1]
    store.run_exists(previous_run)
    timer = Timer()
    input_path = Path(input_path)
    key = stage_key("ingest", file_sha256(input_path), text_col, id_col)
    dataset = timer.run("ingest", ingest_task, key, input_path, text_col, id_col)
    key = stage_key(key, "clean")
    cleaned = timer.run("clean", clean_in_batches, key, dataset)
    computed = 0
    clustered, themes = ClusterResult([], [], {"model": row.version}), []
    if cleaned.units:
        key = stage_key(key, "embed", model.embedder)
        vectors, computed = timer.run("embed", embed_in_batches, key, [u.text for u in cleaned.units], model.embedder)
        key = stage_key(key, "classify", row.version)
        clustered, cleaned, vectors = timer.run("classify", classify_task, key, model, row.version, cleaned, vectors)
    if cleaned.units:
        themes = timer.run("rank", rank_task, stage_key(key, "rank"), clustered, cleaned, vectors, dataset)
        add_share_changes(themes, reviewed_shares(store, previous_run))
    run_id = new_run_id(dataset.input_sha256)
    out_dir = Path(out_dir) if out_dir else default_out_dir(run_id)
    manifest = build_manifest(
        run_id, input_path, dataset, cleaned, clustered, None, None, model.embedder, computed, timer.timings
    )
    manifest.model_version, manifest.previous_run_id = row.version, previous_run
    timer.run("export", export_task, out_dir, themes, clustered, cleaned, dataset, manifest)
    timer.run(
        "record", record_task, db, manifest, dataset, cleaned, clustered, model.embedder, out_dir, row.version, previous_run
    )
    manifest.write(out_dir)
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)
