"""The watched input folder: each file analysts drop there is analysed once, by content, then filed under
``processed/`` or ``failed/`` with a note saying what happened, so nothing dropped is silently lost."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from pipeline.ingest import file_sha256
from pipeline.input_files import SUFFIXES, unsupported_type
from pipeline.messages import say
from review.store import InboxFile, Store, as_utc, now

log = logging.getLogger(__name__)

INCOMING = Path("data/verbatims/incoming")
# A file whose last write is younger than this may still be being copied in: it waits for the next look.
SETTLE_SECONDS = 30.0
# Names that editors and downloaders give files while they write them.
_PARTIAL = (".part", ".partial", ".tmp", ".crdownload", ".download", ".swp")
# A claim this old whose file is still in the folder belongs to a watcher that died: it may be taken over.
STALE_CLAIM = timedelta(hours=2)
# A file whose analysis failed for a reason other than its content (a locked database, a full disk) stays
# in the folder and is tried again at the next look, this many times in all, then filed under failed/.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Arrival:
    path: Path
    sha256: str


def ready_files(folder: Path, settle_seconds: float = SETTLE_SECONDS) -> list[Path]:
    """Files whose writer has finished, oldest first: not hidden or temporary, and untouched for a while.

    Symbolic links are ignored, as is anything that resolves outside the folder: whoever can drop a link into the
    watched folder must not make the service read (and then move, and show) a file from elsewhere."""
    if not folder.is_dir():
        return []
    cutoff = time.time() - settle_seconds
    ready = []
    inside = folder.resolve()
    for path in folder.iterdir():
        name = path.name
        if not path.is_file() or name.startswith((".", "~$")) or name.lower().endswith(_PARTIAL):
            continue
        if path.is_symlink() or path.resolve().parent != inside:
            log.warning("ignored %s: a symbolic link or outside the watched folder", name)
            continue
        if path.stat().st_mtime <= cutoff:
            ready.append(path)
    return sorted(ready, key=lambda p: (p.stat().st_mtime, p.name))


def unsupported_reason(path: Path) -> str | None:
    if path.suffix.lower() not in SUFFIXES:
        return unsupported_type(path.suffix)
    return None


def claim(store: Store, arrival: Arrival) -> InboxFile | None:
    """Take the file for analysis (None), or return the earlier record of the same content: a duplicate, or a
    file another watcher is working on."""
    try:
        with store.session() as session:
            session.add(
                InboxFile(sha256=arrival.sha256, file_name=arrival.path.name, status="running", attempts=1, reason="")
            )
        return None
    except IntegrityError:
        pass
    with store.session() as session:
        earlier = session.get(InboxFile, arrival.sha256)
        abandoned = earlier.status == "running" and as_utc(earlier.claimed_at) < now() - STALE_CLAIM
        if earlier.status == "waiting" or abandoned:
            earlier.status, earlier.claimed_at, earlier.file_name = "running", now(), arrival.path.name
            earlier.attempts += 1
            return None
        return earlier


def finish(store: Store, sha256: str, status: str, run_id: str | None = None, reason: str = "") -> InboxFile:
    """Record the outcome; a transient failure becomes "waiting" until its last attempt, then "failed"."""
    with store.session() as session:
        row = session.get(InboxFile, sha256)
        if status == "waiting" and row.attempts >= MAX_ATTEMPTS:
            status, reason = "failed", say("inbox.gave_up", reason=reason, attempts=row.attempts)
        row.status, row.run_id, row.reason, row.finished_at = status, run_id, reason, now()
        return row


def duplicate_reason(earlier: InboxFile) -> str:
    if earlier.status == "processed":
        return say("inbox.analysed", file=earlier.file_name, run_id=earlier.run_id)
    if earlier.status == "failed":
        return say("inbox.failed", file=earlier.file_name, reason=earlier.reason)
    return say("inbox.running", file=earlier.file_name, since=earlier.claimed_at)


def file_away(path: Path, outcome: str, note: dict) -> Path:
    """Move the file to ``processed/`` or ``failed/`` beside the folder's files, with a JSON note next to it.

    A name already taken there gets a time prefix: an analyst re-dropping a corrected file keeps both.
    """
    target_dir = path.parent / outcome
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}"
    shutil.move(path, target)
    target.with_name(target.name + ".json").write_text(
        json.dumps({"file": path.name, "outcome": outcome, **note}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return target


def arrival(path: Path) -> Arrival:
    return Arrival(path=path, sha256=file_sha256(path))
