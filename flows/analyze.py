"""analyze_verbatims: one Prefect task per pipeline stage, runnable without a Prefect server.

Cleaning and embedding run as batches of tasks, so a Dask task runner spreads them over worker processes.
Stages are cached under keys chained from the input's content hash (``flows.runtime``): a run that failed
half-way, run again, finds the finished stages in Prefect's result storage and goes on from there.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from flows.params import CodebookFile, DbUrl, EmbedderName, InputFile
from flows.runtime import RESUMABLE, RETRIES, stage_key, task_runner
from pipeline import settings
from pipeline.clean import analyse_texts, assemble
from pipeline.codebook import Codebook, codebook_seeds, load_codebook
from pipeline.embed import DEFAULT_EMBEDDER, embed, embedder_id, load_embedder
from pipeline.export import markdown_report, write_outputs
from pipeline.ingest import file_sha256, ingest
from pipeline.manifest import Manifest, count, input_info, versions
from pipeline.rank import rank_themes
from pipeline.records import CleanResult, ClusterResult, Dataset, Theme
from pipeline.themes import find_themes
from review.carryover import carry_themes, drop_off_topic, reviewed_labels
from review.runs import record_run
from review.store import Store

CLEAN_BATCH = 2000  # answers per cleaning task: about 20 s of spaCy on one core
EMBED_BATCH = 4096  # texts per embedding task


@dataclass
class AnalysisSummary:
    run_id: str
    out_dir: Path
    themes: list[Theme]
    manifest: Manifest


class Progress:
    """A log line every tenth of a stage, not every batch."""

    def __init__(self, stage: str, unit: str):
        self.stage, self.unit, self.last = stage, unit, -1.0

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if share - self.last >= 0.1 or done == total:
            self.last = share
            get_run_logger().info("%s: %d/%d %s (%.0f%%)", self.stage, done, total, self.unit, 100 * share)


@task(name="ingest", **RESUMABLE, **RETRIES)
def ingest_task(key: str, input_path: Path, text_col: str | None, id_col: str | None) -> Dataset:
    dataset = ingest(input_path, text_col, id_col)
    logger = get_run_logger()
    for note in dataset.notes:
        logger.info(note)
    logger.info("read %d answers; segments: %s", len(dataset.responses), ", ".join(dataset.segment_columns) or "none")
    return dataset


@task(name="clean-batch", **RESUMABLE, **RETRIES)
def clean_batch_task(key: str, texts: list[str]) -> list[dict]:
    return analyse_texts(texts)


@task(name="embed-batch", **RESUMABLE, **RETRIES)
def embed_batch_task(key: str, texts: list[str], embedder_name: str) -> tuple[np.ndarray, int]:
    vectors, computed = embed(texts, load_embedder(embedder_name))
    get_run_logger().info("embedded %d texts (%d new, %d from cache)", len(texts), computed, len(texts) - computed)
    return vectors, computed


def clean_in_batches(key: str, dataset: Dataset) -> CleanResult:
    """Batches go to the task runner at once; results are taken in order, so the output does not depend on it.

    Batch arguments are not quoted: Dask would unpack the quote (a tuple) on its way to the worker.
    """
    texts = [r.text for r in dataset.responses]
    starts = range(0, len(texts), CLEAN_BATCH)
    futures = [clean_batch_task.submit(f"{key}-{n}", texts[s : s + CLEAN_BATCH]) for n, s in enumerate(starts)]
    analysed: list[dict] = []
    progress = Progress("clean", "answers")
    for future in futures:
        analysed.extend(future.result())
        progress(len(analysed), len(texts))
    cleaned = assemble(dataset.responses, analysed)
    get_run_logger().info("kept %d idea units; set aside %d answers", len(cleaned.units), len(cleaned.excluded))
    return cleaned


def embed_in_batches(key: str, texts: list[str], embedder_name: str) -> tuple[np.ndarray, int]:
    """One matrix filled batch by batch: a batch's vectors are dropped once copied, so none is held twice."""
    starts = list(range(0, len(texts), EMBED_BATCH))
    futures = [
        embed_batch_task.submit(f"{key}-{n}", texts[s : s + EMBED_BATCH], embedder_name) for n, s in enumerate(starts)
    ]
    matrix, computed = None, 0
    progress = Progress("embed", "texts")
    for start in starts:
        future = futures.pop(0)  # popped: the batch's vectors go once copied
        vectors, new = future.result()
        new = 0 if future.state.name == "Cached" else new  # done by an earlier, interrupted run
        if matrix is None:
            matrix = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
        matrix[start : start + len(vectors)] = vectors
        computed += new
        progress(start + len(vectors), len(texts))
    return matrix, computed


@task(name="recall-reviews", cache_policy=NONE, **RETRIES)
def recall_reviews_task(db: str | None, cleaned: CleanResult, vectors: np.ndarray):
    """What reviewers said about the same texts in earlier runs; their off-topic units are set aside.

    Never cached: reviews keep coming, and the next stages' keys include what this found.
    """
    carried = reviewed_labels(Store(db), cleaned.units)
    keep, off_topic = drop_off_topic(cleaned.units, carried)
    if carried:
        get_run_logger().info(
            "%d units were reviewed in earlier runs; %d set aside as off-topic", len(carried), len(off_topic)
        )
    if not off_topic:  # the usual case: no copy of the vectors (400 MB at 200,000 units)
        return cleaned, vectors, carried
    return CleanResult([cleaned.units[i] for i in keep], cleaned.excluded + off_topic), vectors[keep], carried


@task(name="cluster", **RESUMABLE)
def cluster_task(
    key: str, cleaned: CleanResult, vectors: np.ndarray, codebook: Codebook | None, embedder_name: str, carried: dict
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


@task(name="rank", **RESUMABLE)
def rank_task(
    key: str, clustered: ClusterResult, cleaned: CleanResult, vectors: np.ndarray, dataset: Dataset
) -> list[Theme]:
    return rank_themes(
        clustered.themes, clustered.assignments, cleaned.units, vectors, dataset.responses, dataset.segment_columns
    )


@task(name="export", cache_policy=NONE, **RETRIES)
def export_task(out_dir: Path, themes, clustered, cleaned, dataset, manifest) -> dict[str, Path]:
    paths = write_outputs(
        out_dir, themes, clustered.assignments, cleaned.units, cleaned.excluded, dataset.responses, manifest
    )
    publish_artifacts(themes, manifest, cleaned, out_dir)
    return paths


def publish_artifacts(themes: list[Theme], manifest: Manifest, cleaned: CleanResult, out_dir: Path) -> None:
    """What an analyst sees on the flow run's page: the ranked table, the report, and where to read it."""
    run_id = manifest.run_id
    create_table_artifact(
        key="ranked-themes-table",
        table=[
            {
                "rank": t.rank,
                "theme": t.label,
                "share": f"{t.share:.1%}",
                "respondents": t.n_respondents,
                "keywords": ", ".join(t.keywords[:6]),
                "change (pts)": "" if t.change_pts is None else f"{t.change_pts:+.1f}",
            }
            for t in themes
        ],
        description=f"Ranked themes of run {run_id}",
    )
    create_markdown_artifact(
        key="ranked-themes",
        markdown=markdown_report(themes, manifest, cleaned.excluded),
        description=f"Report of run {run_id}",
    )
    create_link_artifact(key="report-link", link=report_link(run_id, out_dir), link_text=f"Report of run {run_id}")


def report_link(run_id: str, out_dir: Path) -> str:
    """The web page's report when ``VERBATIMS_WEB_URL`` says where it is served, else the report file."""
    web = settings.current().web_url.rstrip("/")
    return f"{web}/runs/{run_id}/report" if web else (Path(out_dir) / "report.md").resolve().as_uri()


@task(name="record", cache_policy=NONE, **RETRIES)
def record_task(
    db: str | None,
    manifest: Manifest,
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
    get_run_logger().info("recorded run %s in the review store %s", manifest.run_id, store.shown_url)


class Timer:
    """Runs a stage and records how long it took, for the manifest."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, name: str, stage, *args):
        start = time.perf_counter()
        if isinstance(stage, Task):  # quoted: Prefect would otherwise walk every unit of every argument
            args = tuple(quote(arg) for arg in args)
        value = stage(*args)
        self.timings[name] = round(time.perf_counter() - start, 2)
        return value


def default_out_dir(run_id: str) -> Path:
    return Path("outputs") / run_id


def new_run_id(input_sha256: str) -> str:
    """Sortable, names its input, and unique even for two runs of one file in the same second."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{input_sha256[:8]}-{uuid.uuid4().hex[:4]}"


@flow(name="analyze_verbatims", log_prints=True, task_runner=task_runner())
def analyze_verbatims(
    input_path: InputFile,
    text_col: str | None = None,
    id_col: str | None = None,
    codebook_path: CodebookFile | None = None,
    embedder: EmbedderName = DEFAULT_EMBEDDER,
    out_dir: Path | None = None,
    db: DbUrl | None = None,
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
    """
    timer = Timer()
    input_path = Path(input_path)
    codebook = load_codebook(Path(codebook_path)) if codebook_path else None
    key = stage_key("ingest", file_sha256(input_path), text_col, id_col)
    dataset = timer.run("ingest", ingest_task, key, input_path, text_col, id_col)
    key = stage_key(key, "clean")
    cleaned = timer.run("clean", clean_in_batches, key, dataset)
    computed, carried = 0, {}
    if cleaned.units:
        key = stage_key(key, "embed", embedder)
        vectors, computed = timer.run("embed", embed_in_batches, key, [u.text for u in cleaned.units], embedder)
        cleaned, vectors, carried = timer.run("recall", recall_reviews_task, db, cleaned, vectors)
    if cleaned.units:
        key = stage_key(key, "cluster", file_sha256(Path(codebook_path)) if codebook_path else "", sorted(carried.items()))
        clustered = timer.run("cluster", cluster_task, key, cleaned, vectors, codebook, embedder, carried)
        themes = timer.run("rank", rank_task, stage_key(key, "rank"), clustered, cleaned, vectors, dataset)
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
    manifest.write(out_dir)  # last, so that it holds the export's and record's timings too
    return AnalysisSummary(run_id=run_id, out_dir=out_dir, themes=themes, manifest=manifest)


def build_manifest(
    run_id: str,
    input_path: Path,
    dataset: Dataset,
    cleaned: CleanResult,
    clustered: ClusterResult,
    codebook_path: Path | None,
    codebook: Codebook | None,
    embedder: str,
    computed: int,
    timings: dict[str, float],
) -> Manifest:
    return Manifest(
        run_id=run_id,
        question=codebook.question if codebook else "",
        input=input_info(input_path, dataset),
        parameters={
            "embedder": embedder_id(embedder),
            "codebook": str(codebook_path) if codebook_path else None,
            **clustered.parameters,
        },
        versions=versions(),
        counts=count(len(dataset.responses), cleaned.units, cleaned.excluded, len(clustered.themes), computed),
        timings_s=timings,
    )
