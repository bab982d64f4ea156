"""watch_inbox: analyse each file dropped in the watched folder once, then file it with its outcome."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.analyze import analyze_verbatims
from flows.params import CodebookFile, DbUrl, EmbedderName
from pipeline.errors import InputError
from pipeline.messages import say
from pipeline.settings import DEFAULT_EMBEDDER
from review.inbox import (
    INCOMING,
    SETTLE_SECONDS,
    arrival,
    claim,
    duplicate_reason,
    file_away,
    finish,
    ready_files,
    unsupported_reason,
)
from review.store import Store


@flow(name="watch_inbox", log_prints=True)
def watch_inbox(
    folder: Path = INCOMING,
    codebook_path: CodebookFile | None = None,
    embedder: EmbedderName = DEFAULT_EMBEDDER,
    db: DbUrl | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> list[dict]:
    """One look at ``folder``: every finished file is analysed (or recognised as already seen) and moved to
    ``processed/`` or ``failed/`` beside a note with the run id or the reason.

    Args:
        folder: Folder watched for answers files; created when missing.
        codebook_path: YAML codebook of expected themes, used for every file.
        embedder: use-multilingual (default), minilm, or a sentence-transformers model path.
        db: Review store: a file path or a postgresql:// URL; default VERBATIMS_DB.
        settle_seconds: A file changed more recently than this is still being written and waits.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store, logger = Store(db), get_run_logger()
    outcomes = [_handle(path, store, codebook_path, embedder, db) for path in ready_files(folder, settle_seconds)]
    for outcome in outcomes:
        logger.info("%s: %s %s", outcome["file"], outcome["outcome"], outcome.get("run_id") or outcome.get("reason", ""))
    if outcomes:
        create_table_artifact(key="inbox", table=outcomes, description=say("artifact.inbox", folder=folder))
    else:
        logger.info("nothing new in %s", folder)
    return outcomes


def _handle(path: Path, store: Store, codebook_path, embedder: str, db: str | None) -> dict:
    reason = unsupported_reason(path)
    if reason:
        return _filed(path, "failed", reason=reason)
    seen = arrival(path)
    earlier = claim(store, seen)
    if earlier is not None:
        if earlier.status == "running":  # another watcher has it: leave the file where it is
            return {"file": path.name, "outcome": "left", "reason": duplicate_reason(earlier)}
        outcome = "processed" if earlier.status == "processed" else "failed"
        return _filed(path, outcome, reason=duplicate_reason(earlier), sha256=seen.sha256, run_id=earlier.run_id)
    state = analyze_verbatims(path, codebook_path=codebook_path, embedder=embedder, db=db, return_state=True)
    if state.is_completed() and (reason := state.result().nothing_left()):  # nothing to review: the file was wrong
        finish(store, seen.sha256, "failed", reason=reason)
        return _filed(path, "failed", sha256=seen.sha256, reason=reason)
    if state.is_completed():
        summary = state.result()
        finish(store, seen.sha256, "processed", run_id=summary.run_id)
        return _filed(path, "processed", sha256=seen.sha256, run_id=summary.run_id, out_dir=str(summary.out_dir))
    error = state.result(raise_on_failure=False)
    if isinstance(error, InputError):  # the file itself is wrong: trying again would not help
        finish(store, seen.sha256, "failed", reason=str(error))
        return _filed(path, "failed", sha256=seen.sha256, reason=str(error))
    row = finish(store, seen.sha256, "waiting", reason=state.message or repr(error))
    if row.status == "failed":
        return _filed(path, "failed", sha256=seen.sha256, reason=row.reason)
    return {"file": path.name, "outcome": "waiting", "reason": say("inbox.retry", reason=row.reason)}


def _filed(path: Path, outcome: str, **note) -> dict:
    note = {k: v for k, v in note.items() if v}
    moved = file_away(path, outcome, note)
    return {"file": path.name, "outcome": outcome, "moved_to": str(moved), **note}
