"""How the flows run: which task runner, which steps retry, and the cache keys that let a failed run resume.

Cache keys are chained from the input file's content hash and the settings of each stage, never from the
data itself: hashing 100,000 idea units and their vectors for a key would cost more than some stages.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

import pipeline
from pipeline import settings
from pipeline.errors import InputError
from pipeline.messages import say

# Cleaning and embedding take turns on a lock (spaCy is not thread-safe; the embedder uses every core), so a
# second thread only prepares the next batch. Prefect's default, a thread per submitted batch, gave each
# thread its own malloc arena: 5.8 GiB after cleaning 100,000 answers, against 2.2 GiB with two threads.
THREADS = 2


def task_runner(setting: str | None = None):
    """The runner for ``setting``, else ``VERBATIMS_TASK_RUNNER``, else threads."""
    setting = (setting or settings.current().task_runner).strip()
    if settings.on_threads(setting):
        return ThreadPoolTaskRunner(max_workers=THREADS)
    if setting == "dask" or setting.startswith("dask:"):
        workers = _worker_count(setting)
        cores = os.cpu_count() or 1
        # Worker processes inherit the environment: each takes its share of the cores for BLAS and the
        # embedder, since oversubscribing 2 cores made the embedder about 30x slower.
        share = str(max(1, cores // workers))
        os.environ.update(VERBATIMS_EMBED_THREADS=share, OMP_NUM_THREADS=share, OPENBLAS_NUM_THREADS=share)
        # and the store as this process has it (--db included): flows get its URL without the password
        # (review.store.parameter_url), which the workers' tasks find again in their settings
        os.environ["VERBATIMS_DB"] = settings.current().db
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        )
    if "://" in setting:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=setting)
    raise InputError(say("runner.unknown", setting=setting, choices=say("runner.choices")))


def _worker_count(setting: str) -> int:
    if setting == "dask":
        return os.cpu_count() or 1
    count = setting.split(":", 1)[1]
    if not count.isdigit() or int(count) < 1:
        raise InputError(say("runner.workers", setting=setting))
    return int(count)


def _worth_retrying(task, task_run, state) -> bool:
    """A locked database or a busy disk may pass; a wrong column or a corrupt file will not."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:
        return True
    return True


# For steps that touch files or the database: 3 retries after 2, 4 and 8 s, give or take half.
RETRIES = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _worth_retrying,
}


def _key_of_call(context, parameters: dict) -> str:
    return parameters["key"]


# For stages whose result is a function of their ``key`` argument: a re-run of a failed flow finds them
# done in Prefect's result storage and skips them.
RESUMABLE = {"cache_key_fn": _key_of_call, "persist_result": True}


def stage_key(*parts: object) -> str:
    """A key naming a stage's output: the previous stage's key plus this stage's settings.

    The library's source is part of every key, so an upgrade or a local change never reuses old results.
    """
    text = "\x00".join(str(p) for p in (_code_version(), *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@lru_cache(maxsize=1)
def _code_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(pipeline.__file__).parent.rglob("*")):
        if path.suffix in {".py", ".txt", ".yaml", ".json"} and path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Timings:
    """Seconds per stage, for the manifest's ``timings_s``: ``with timings("clean"): ...``.

    ``seconds`` is one dict for the whole run: a manifest built before the last stages holds their times too.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[stage] = round(time.perf_counter() - start, 2)
