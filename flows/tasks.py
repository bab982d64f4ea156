"""The Prefect tasks of ``analyze_verbatims`` and ``classify_wave``: each calls a stage of ``pipeline.analysis``.

Cleaning and embedding run as batches of tasks, so a Dask task runner spreads them over worker processes.
Stages are cached under keys chained from the input's content hash (``flows.runtime``): a run that failed
half-way, run again, finds the finished stages in Prefect's result storage and goes on from there.

Callers wrap big arguments in ``quote``: Prefect would otherwise walk every unit of every argument.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from flows.runtime import RESUMABLE, RETRIES, Timings, stage_key
from pipeline import settings
from pipeline.analysis import Analysis
from pipeline.bundle import Bundle
from pipeline.clean import stop_workers
from pipeline.export import markdown_report
from pipeline.exporters import Writing, start_outputs
from pipeline.manifest import Manifest
from pipeline.messages import decimal, header, plural, plural_word, say
from pipeline.placement import THEME_PATH, ThemePlacer, load_placer, save_placer
from pipeline.records import CleanResult, ClusterResult, Dataset, Theme
from review.carryover import carry_themes, drop_off_topic, reviewed_labels, set_by_reviewers
from review.classify import classify_units
from review.runs import RunRecord, record_run
from review.store import Store


@dataclass
class AnalysisSummary:
    run_id: str
    out_dir: Path
    themes: list[Theme]
    manifest: Manifest

    def nothing_left(self) -> str | None:
        """Why there is no run to review, in French, when every answer was set aside (its files say which and why,
        but no run was recorded); None otherwise. The command line, the web's jobs and the watched folder say it."""
        counts = self.manifest.counts
        if counts.units:
            return None
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts.excluded_by_reason.items())
        excluded = f"{plural(counts.excluded, 'answer')} {plural_word(counts.excluded, 'set_aside')}"
        return say("summary.nothing_left", excluded=excluded, reasons=reasons, folder=self.out_dir)


class Progress:
    """A log line every tenth of a stage, not every batch."""

    def __init__(self, stage: str, unit: str):
        self.stage, self.unit, self.last = stage, unit, -1.0

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if share - self.last >= 0.1 or done == total:
            self.last = share
            get_run_logger().info("%s: %d/%d %s (%.0f%%)", self.stage, done, total, self.unit, 100 * share)


@task(name="ingest", cache_policy=NONE, **RETRIES)
def ingest_task(
    analysis: Analysis, input_path: Path, text_col: str | None, id_col: str | None, dedupe_ids: bool = False
) -> Dataset:
    """Never cached: the file is read once, and its content hash, taken from the same bytes, starts the keys
    of the stages after it (hashing the file apart for this stage's key read it once more)."""
    dataset = analysis.ingest(input_path, text_col, id_col, dedupe_ids)
    logger = get_run_logger()
    for note in dataset.notes:
        logger.info(note)
    logger.info("read %d answers; segments: %s", len(dataset.responses), ", ".join(dataset.segment_columns) or "none")
    return dataset


@task(name="clean-batch", **RESUMABLE, **RETRIES)
def clean_batch_task(key: str, analysis: Analysis, texts: list[str]) -> list[dict]:
    return analysis.analyse(texts)


@task(name="embed-batch", **RESUMABLE, **RETRIES)
def embed_batch_task(key: str, analysis: Analysis, texts: list[str]) -> tuple[np.ndarray, int]:
    vectors, computed = analysis.embed_texts(texts)
    get_run_logger().info("embedded %d texts (%d new, %d from cache)", len(texts), computed, len(texts) - computed)
    return vectors, computed


def clean_in_batches(key: str, analysis: Analysis, dataset: Dataset) -> CleanResult:
    """The answers the cleaning cache holds read at once, the others cleaned by batches of tasks (``in_batches``);
    duplicates are judged after, over every answer."""
    cleaning = analysis.cleaning(dataset)
    progress = Progress("clean", "answers")
    for start, future in in_batches(clean_batch_task, key, analysis, analysis.clean_batches(cleaning.new)):
        cleaning.put(start, future.result())
        progress(cleaning.filled, len(dataset.responses))
    stop_workers(unless_in_use=True)  # a cleaning worker's spaCy is not held through the next stages
    cleaned = analysis.assemble(dataset, cleaning.results)
    get_run_logger().info("kept %d idea units; set aside %d answers", len(cleaned.units), len(cleaned.excluded))
    return cleaned


def embed_in_batches(key: str, analysis: Analysis, texts: list[str]) -> tuple[np.ndarray, int]:
    """One matrix: the vectors the embedding cache holds read at once, the others computed by batches of tasks
    (``in_batches``)."""
    vectors = analysis.vectors(texts)
    progress = Progress("embed", "texts")
    for start, future in in_batches(embed_batch_task, key, analysis, analysis.embed_batches(vectors.new)):
        batch, new = future.result()
        vectors.put(start, batch, 0 if future.state.name == "Cached" else new)  # cached: an earlier run's work
        progress(vectors.filled, len(texts))
    return vectors.result()


def in_batches(task, key: str, analysis: Analysis, parts: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, Any]]:
    """(start, future) of each part of the texts a stage's cache lacks, submitted to the task runner at once and
    taken in order, so that the output does not depend on it; each future is let go once taken, with its result.

    Only the texts the cache lacks: a re-run of 10,100 answers with 100 new ones read its 10,000 cleaned answers
    and 18,500 vectors at once in about 0.4 s, against 1.1 s through eleven batch tasks whose results Prefect
    stored again. A part's key names its texts, so that a run resumed after a kill finds the parts it finished,
    whatever the cache held. Parts are not quoted: Dask would unpack the quote (a tuple) on its way to the worker."""
    parts = list(parts)
    if parts:
        get_run_logger().info("%s: %d texts not in the cache", task.name, sum(len(part) for _, part in parts))
    futures = [task.submit(stage_key(key, *part), analysis, part) for _, part in parts]
    for start, _ in parts:
        yield start, futures.pop(0)


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
def cluster_task(key: str, analysis: Analysis, cleaned: CleanResult, vectors: np.ndarray, carried: dict) -> ClusterResult:
    result = analysis.cluster(cleaned.units, vectors)
    if carried:
        result, stats = carry_themes(result, cleaned.units, carried)
        result.parameters["carried_over"] = stats
        get_run_logger().info(
            "carried over reviews: %d themes matched, %d units placed as reviewers did",
            stats["themes_matched"],
            stats["units_set_by_reviewer"],
        )
    result = analysis.code_labels(result, cleaned.units, vectors, set_by_reviewers(cleaned.units, carried))
    get_run_logger().info("found %d themes", len(result.themes))
    return result


def themes_or_placement(
    cluster_key: str,
    placer_key: str,
    analysis: Analysis,
    cleaned: CleanResult,
    vectors: np.ndarray,
    carried: dict,
    recluster: bool = False,
) -> tuple[ClusterResult, str]:
    """The theme stage: the units placed in the themes of the last clustering with the same settings and reviews
    (``placer_key``) when few changed since (``pipeline.placement``), else clustered. Returns the result, which
    says the path taken (``THEME_PATH``), and the key the next stage's cached result is chained from."""
    placer = None if recluster else load_placer(placer_key)
    reason = say("placement.asked") if recluster else placer.reason_to_recluster(cleaned.units) if placer else None
    if placer is not None and reason is None:
        key = stage_key(cluster_key, "placed", placer.digest())
        clustered = place_task(quote(placer), quote(cleaned), quote(vectors))
    else:
        key = cluster_key
        clustered = cluster_task(cluster_key, analysis, quote(cleaned), quote(vectors), quote(carried))
        placer = ThemePlacer().fit(clustered, cleaned.units, vectors)
        clustered.parameters[THEME_PATH] = {"path": "clustered", **({"reason": reason} if reason else {})}
    save_placer(placer_key, placer)
    return clustered, key


@task(name="place", cache_policy=NONE)
def place_task(placer: ThemePlacer, cleaned: CleanResult, vectors: np.ndarray) -> ClusterResult:
    """Never cached: the placer changes with each file it places (the next stage's key names its state)."""
    result = placer.place(cleaned.units, vectors)
    path = result.parameters[THEME_PATH]
    get_run_logger().info(
        "placed %d new units in the themes of the last clustering (%d in Autres); %d placed since it",
        path["new_units"],
        path["placed_in_other"],
        path["placed_since_clustering"],
    )
    return result


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


@task(name="rank", **RESUMABLE)
def rank_task(
    key: str, analysis: Analysis, clustered: ClusterResult, cleaned: CleanResult, vectors: np.ndarray, dataset: Dataset
) -> list[Theme]:
    """Codes ranked, then rolled up into nets: one stage, as nets reorder the ranks."""
    themes = analysis.nets(analysis.rank(clustered, cleaned.units, vectors, dataset), clustered, cleaned.units, vectors)
    get_run_logger().info("%d themes in %d nets", len(themes), len({t.net_id for t in themes}))
    return themes


def publish_run(db: str | None, record: RunRecord, bundle: Bundle, timings: Timings) -> None:
    """A run's files and its row in the store, all or nothing.

    The files are written into a hidden folder beside ``out_dir``, the run is recorded (unless no answer was left
    to analyse: there is nothing to review, only excluded.csv to read), then the folder takes ``out_dir``'s place.
    A failure on the way removes the hidden folder: no half-written ``--out``, no run in the store without files."""
    out_dir = Path(record.out_dir)
    staging = out_dir.parent / f".{out_dir.name}.{record.manifest.run_id}.partial"
    writing = None
    try:
        with timings("export"):  # the files this process writes; the workbook's fork goes on (``Writing``)
            writing = export_task(staging, out_dir, quote(bundle))
        files = partial(writing.finish, bundle)
        if record.cleaned.units:
            # the store is written while the fork ends (0.6 s of a 10,100-answer re-run's 2.2 s of files), and
            # committed only once every file is there: the wait for the fork is counted in "record"
            with timings("record"):
                record_task(db, quote(record), quote(files))
        else:
            files()
        record.manifest.write(staging)  # last, so that it holds the export's and record's timings too
        replace_folder(staging, out_dir)
    except BaseException:
        if writing is not None:
            writing.abandon()
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_folder(new: Path, target: Path) -> None:
    """``new`` renamed to ``target``; a ``target`` already there (a run again into the same ``--out``) is set aside
    first and removed after, so that ``target`` is never a mix of two runs."""
    if target.exists():
        old = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.old"
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


@task(name="export", cache_policy=NONE, **RETRIES)
def export_task(folder: Path, out_dir: Path, bundle: Bundle) -> Writing:
    """The run's files, written into ``folder`` but the one a fork may still be writing (``Writing.finish``); the
    artifacts point at ``out_dir``, where they will be."""
    writing = start_outputs(folder, bundle)
    publish_artifacts(bundle, out_dir)
    return writing


def publish_artifacts(bundle: Bundle, out_dir: Path) -> None:
    """What an analyst sees on the flow run's page: the ranked table, the report, and where to read it."""
    run_id = bundle.manifest.run_id
    create_table_artifact(
        key="ranked-themes-table",
        table=[
            {  # the analyst reads it in Prefect's UI: French headers, as the workbook's
                header("rank"): t.rank,
                header("net_label"): t.net_label,
                header("theme_label"): t.label,
                header("share"): decimal(t.share, ".1%"),
                header("n_respondents"): t.n_respondents,
                header("keywords"): ", ".join(t.keywords[:6]),
                header("change_pts"): "" if t.change_pts is None else decimal(t.change_pts, "+.1f"),
            }
            for t in bundle.themes
        ],
        description=say("artifact.ranked", run_id=run_id),
    )
    report = say("artifact.report", run_id=run_id)
    create_markdown_artifact(
        key="ranked-themes",
        markdown=markdown_report(bundle.themes, bundle.manifest, bundle.excluded, bundle.nets),
        description=report,
    )
    create_link_artifact(key="report-link", link=report_link(run_id, out_dir), link_text=report)


def report_link(run_id: str, out_dir: Path) -> str:
    """The web page's report when ``VERBATIMS_WEB_URL`` says where it is served, else the report file."""
    web = settings.current().web_url.rstrip("/")
    return f"{web}/runs/{run_id}/report" if web else (Path(out_dir) / "report.md").resolve().as_uri()


@task(name="record", cache_policy=NONE, **RETRIES)
def record_task(db: str | None, record: RunRecord, files_written: Callable[[], object]) -> None:
    """The run into the store, committed once ``files_written`` has returned (it raises: nothing recorded)."""
    store = Store(db)
    record_run(store, record, before_commit=files_written)
    get_run_logger().info("recorded run %s in the review store %s", record.manifest.run_id, store.shown_url)


def default_out_dir(run_id: str) -> Path:
    return Path("outputs") / run_id


def new_run_id(input_sha256: str) -> str:
    """Sortable, names its input, and unique even for two runs of one file in the same second."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{input_sha256[:8]}-{uuid.uuid4().hex[:4]}"
