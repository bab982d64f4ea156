"""Retrain and classify started from the page: Prefect flows run in a background thread, followed by a job page."""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import InputError, NotFoundError, VerbatimsError
from pipeline.messages import plural, say
from review.store import Store, parameter_url

STATES = {"running": "en cours", "done": "terminé", "failed": "échec"}  # what the job page says of each state
log = logging.getLogger(__name__)


@dataclass
class Job:
    job_id: str
    kind: str
    by: str
    state: str = "running"  # running, done, failed
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    message: str = ""
    run_id: str | None = None
    alerts: list[str] = field(default_factory=list)  # a classified wave's alerts, shown beside the message

    @property
    def state_label(self) -> str:
        return STATES[self.state]


class Jobs:
    def __init__(self, store: Store):
        self.store = store
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(say("job.unknown", job_id=job_id))
        return job

    def recent(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.started_at, reverse=True)[:5]

    def start_retrain(self, by: str) -> str:
        def work(job: Job) -> None:
            from flows.retrain import retrain_from_reviews

            report = retrain_from_reviews(db=parameter_url(self.store.url), by=by)
            job.message = report.summary

        return self._start("retrain", by, work)

    def start_classify(self, path: Path, by: str, question: str | None = None) -> str:
        """Classify a received upload (``web.uploads.receive_wave`` checked it)."""
        name = path.name

        def work(job: Job) -> None:
            from flows.classify import classify_wave
            from pipeline.export import ALERTS

            try:
                summary = classify_wave(path, db=parameter_url(self.store.url), question=question)
                if reason := summary.nothing_left():  # every answer set aside: no run, the upload goes too
                    raise InputError(reason)
            except BaseException:  # no run keeps it: the file (the answers in it) goes; a run's goes with the run
                shutil.rmtree(path.parent, ignore_errors=True)
                raise
            job.run_id = summary.run_id
            job.alerts = list(summary.manifest.parameters.get(ALERTS) or [])
            themes = plural(len(summary.themes), "theme")
            job.message = say("job.classified", themes=themes, name=name, folder=summary.out_dir)

        return self._start("classify", by, work)

    def _start(self, kind: str, by: str, work) -> str:
        job = Job(uuid.uuid4().hex[:12], kind, by)
        with self._lock:
            self._jobs[job.job_id] = job

        def run() -> None:
            try:
                work(job)
                job.state = "done"
            except VerbatimsError as exc:  # the user can act on it: its (French) message says what to do
                job.state, job.message = "failed", str(exc)
            except Exception:  # the page says it failed; the server keeps serving and logs why, in English
                log.exception("job %s (%s) failed", job.job_id, kind)
                job.state, job.message = "failed", "échec inattendu : le journal du serveur en donne la cause"
            job.finished_at = datetime.now(UTC).isoformat(timespec="seconds")

        threading.Thread(target=run, name=f"job-{job.job_id}", daemon=True).start()
        return job.job_id
