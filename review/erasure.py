"""Erasure and retention: one respondent's answers, a whole run or a user removed from everything the product
wrote, and a log of each erasure that holds no personal data.

Where a respondent's text can be, and how it goes:

- the store: their respondents, units, set-aside answers, assignments and blind codings are deleted; review
  events naming only their units are deleted, and their units are taken out of the events naming others
  (bulk corrections, splits), so that the history still replays; theme keywords and labels that only their
  answers gave are dropped. SQLite deletes with ``secure_delete`` and the WAL is checkpointed, so the text is
  not left in free pages; PostgreSQL tables are vacuumed.
- the caches (``pipeline.cache``): embeddings are keyed by the unit text, so their keys are computed from the
  texts read in the store before deleting them; cleaning results are keyed by the raw answer, which the store
  does not hold, so the entries whose stored result holds one of the texts are found by content. A cleaning
  entry of an answer set aside holds only its reason under a sha256 of the raw text: no text of theirs.
- Prefect's persisted task results (``PREFECT_LOCAL_STORAGE_PATH``): each is a cloudpickle, whose strings are
  stored as UTF-8; every result file holding one of the texts is deleted whole. A later run of the same file
  recomputes those stages instead of resuming from them.
- the review queue's per-run folder (``review.queue_run``), named from the run's texts: deleted.
- each affected run's exports folder: written again from the reviewed run, in a new folder that replaces it;
  a run left without any answer is deleted whole (``delete_run``).
- the runs' Prefect artifacts (the ranked table and the report, which quotes answers) in the database of the
  Prefect server the commands start (``PREFECT_HOME``); a server of the analyst's own (``PREFECT_API_URL``) is
  out of reach.
- an upload the web page kept for the run (``web.uploads``), found by the run's file name and content hash:
  deleted. A file given to ``verbatims analyze`` is the analyst's own and is left where it is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text

from pipeline import charts, placement
from pipeline.cache import BlobCache, cache_dir, content_key
from pipeline.errors import NotFoundError
from pipeline.ingest import file_sha256
from pipeline.messages import plural, say
from review.store import (
    AssignmentRow,
    BlindCodingRow,
    DoubleCodingRow,
    ErasureRow,
    EventRow,
    ExcludedRow,
    RespondentRow,
    Run,
    Store,
    ThemeRow,
    UnitRow,
    now,
)
from review.users import remove_user

UPLOADS = Path("outputs/uploads")  # where web.uploads keeps a new wave's file (web/ is not imported here)
_WORD = re.compile(r"[^\W_]+")
# Texts searched for in each Prefect result file when a whole run goes: spaced so that every cleaning batch
# (2,000 answers) of a run of 200,000 units holds several of them.
MAX_NEEDLES = 400


@dataclass
class Erasure:
    """What one erasure removed, by kind: what the command prints and the log keeps."""

    removed: Counter = field(default_factory=Counter)
    runs: list[str] = field(default_factory=list)  # the runs it touched

    def add(self, kind: str, n: int) -> None:
        if n:
            self.removed[kind] += n

    def summary(self) -> str:
        """In French, by kind: "1 répondant, 2 idées, 3 entrées de cache"."""
        return ", ".join(plural(n, f"erased.{kind}") for kind, n in self.removed.items()) or say("erase.nothing")


def subject_hash(kind: str, identifier: str) -> str:
    """What the log keeps of the erased subject: a request can be checked against it, the log shows nothing.
    A short respondent id can be guessed from its hash: the log is for admins, as the store is."""
    return hashlib.sha256(f"{kind}\x00{identifier}".encode()).hexdigest()


def erase_respondent(store: Store, respondent_id: str, by: str) -> Erasure:
    """Every answer of ``respondent_id``, in every run, removed from the store, caches, results and exports."""
    with store.reading() as session:
        units = session.execute(
            select(UnitRow.run_id, UnitRow.unit_id, UnitRow.text, UnitRow.lemmas).where(
                UnitRow.respondent_id == respondent_id
            )
        ).all()
        set_aside = session.scalars(select(ExcludedRow.text).where(ExcludedRow.respondent_id == respondent_id)).all()
        run_ids = sorted(
            set(session.scalars(select(RespondentRow.run_id).where(RespondentRow.respondent_id == respondent_id)))
            | {u.run_id for u in units}
        )
    if not run_ids:
        raise NotFoundError(say("erase.unknown_respondent"))
    texts = sorted({u.text for u in units} | set(set_aside))
    erasure = Erasure(runs=run_ids)
    queue_keys = [_queue_key(store, run_id) for run_id in run_ids]  # named from the texts: before they go
    erased_words = _words(u.text for u in units) | _words(u.lemmas for u in units) | _words(set_aside)
    # the copies first: should the store's part fail, the respondent is still there to erase again
    _forget(texts, queue_keys, erasure)
    erasure.add("prefect_artifacts", _drop_artifacts(run_ids))
    with store.session() as session:
        _secure_delete(session)
        for run_id in run_ids:
            unit_ids = {u.unit_id for u in units if u.run_id == run_id}
            erasure.add("review_events", _redact_events(session, run_id, unit_ids))
            for table in (BlindCodingRow, DoubleCodingRow, AssignmentRow, UnitRow):
                erasure.add(table.__tablename__, _delete(session, table, run_id, table.unit_id.in_(unit_ids)))
            erasure.add("excluded", _delete(session, ExcludedRow, run_id, ExcludedRow.respondent_id == respondent_id))
            erasure.add("respondents", _delete(session, RespondentRow, run_id, RespondentRow.respondent_id == respondent_id))
            erasure.add("themes", _scrub_themes(session, run_id, erased_words))
    for run_id in run_ids:
        if _is_empty(store, run_id):
            erasure.removed.update(_delete_run_data(store, run_id).removed)
        else:
            erasure.add("export_folders", _export_again(store, run_id))
            erasure.add("uploads", _delete_upload(store, run_id))
    _compact(store)
    _log(store, by, "respondent", respondent_id, erasure)
    return erasure


def delete_run(store: Store, run_id: str, by: str) -> Erasure:
    """The run's rows, its exports folder, its upload, its queue folder and the cached results of its texts
    that no other run holds."""
    erasure = _delete_run_data(store, run_id)
    _compact(store)
    _log(store, by, "run", run_id, erasure)
    return erasure


def erase_user(store: Store, username: str, by: str) -> Erasure:
    """The account and its sessions (``review.users.remove_user``), logged; what they reviewed stays in the
    event log under their name, as the audit trail of the runs."""
    erasure = Erasure()
    erasure.add("sessions", remove_user(store, username))
    erasure.add("users", 1)
    _log(store, by, "user", username, erasure)
    return erasure


def runs_older_than(store: Store, days: int) -> list[str]:
    """The runs created more than ``days`` days ago, oldest first: what the retention setting lets go."""
    with store.reading() as session:
        return list(
            session.scalars(select(Run.run_id).where(Run.created_at < now() - timedelta(days=days)).order_by(Run.created_at))
        )


def _delete_run_data(store: Store, run_id: str) -> Erasure:
    with store.reading() as session:
        run = store.run(session, run_id)
        units = session.scalars(select(UnitRow.text).where(UnitRow.run_id == run_id).order_by(UnitRow.position)).all()
        set_aside = session.scalars(select(ExcludedRow.text).where(ExcludedRow.run_id == run_id)).all()
        # texts other runs hold keep their cache entries: those runs' re-exports and the queue read them
        elsewhere = set(session.scalars(select(UnitRow.text).where(UnitRow.run_id != run_id, UnitRow.text.in_(units))))
        elsewhere |= set(
            session.scalars(select(ExcludedRow.text).where(ExcludedRow.run_id != run_id, ExcludedRow.text.in_(set_aside)))
        )
        out_dir = run.out_dir
    erasure = Erasure(runs=[run_id])
    queue_key = _queue_key(store, run_id)
    erasure.add("uploads", _delete_upload(store, run_id))
    with store.session() as session:
        _secure_delete(session)
        counted = {
            table.__tablename__: session.scalar(select(func.count()).select_from(table).where(table.run_id == run_id))
            for table in (RespondentRow, UnitRow, ExcludedRow, EventRow, ThemeRow)
        }
        session.delete(session.get(Run, run_id))  # the run's other rows go by ON DELETE CASCADE
    for kind, n in counted.items():
        erasure.add(kind, n)
    erasure.add("runs", 1)
    folder = _export_folder(out_dir)
    if folder is not None:
        shutil.rmtree(folder)
        erasure.add("export_folders", 1)
    _forget(list(dict.fromkeys(t for t in [*units, *set_aside] if t not in elsewhere)), [queue_key], erasure)
    erasure.add("prefect_artifacts", _drop_artifacts([run_id]))
    return erasure


def _delete(session, table, run_id: str, where) -> int:
    return session.execute(delete(table).where(table.run_id == run_id, where)).rowcount or 0


def _is_empty(store: Store, run_id: str) -> bool:
    with store.reading() as session:
        return not session.scalar(select(func.count()).select_from(RespondentRow).where(RespondentRow.run_id == run_id))


def _redact_events(session, run_id: str, unit_ids: set[str]) -> int:
    """Review events without the erased units, so that no one's id stays in the history and it still replays:
    an event about one of their units only goes (with an undo of it); a bulk correction or a split loses them
    from its list. Returns the number of events deleted."""
    if not unit_ids:
        return 0
    keys = {f"unit:{u}" for u in unit_ids}
    events = list(session.scalars(select(EventRow).where(EventRow.run_id == run_id).order_by(EventRow.seq)))
    gone: set[int] = set()
    for event in events:
        payload = dict(event.payload)
        if payload.get("unit") in unit_ids or (event.action == "undo" and payload.get("event") in gone):
            gone.add(event.seq)
            session.delete(event)
            continue
        if not set(event.touched) & keys:
            continue
        if "items" in payload:  # a bulk correction
            payload["items"] = [item for item in payload["items"] if item.get("unit") not in unit_ids]
            if not payload["items"]:
                gone.add(event.seq)
                session.delete(event)
                continue
        if "units" in payload:  # a split
            payload["units"] = [u for u in payload["units"] if u not in unit_ids]
        event.payload = payload
        event.touched = [key for key in event.touched if key not in keys]
        event.before = {k: v for k, v in event.before.items() if k not in keys}
        event.after = {k: v for k, v in event.after.items() if k not in keys}
    return len(gone)


def _words(texts) -> set[str]:
    return {word for t in texts for word in _WORD.findall(t.casefold())}


def _scrub_themes(session, run_id: str, erased_words: set[str]) -> int:
    """Keywords and labels of the run's themes that only the erased answers gave: a small theme's keyword may
    be a word of theirs ("zorglub"). Returns the number of themes changed."""
    remaining = _words(session.scalars(select(UnitRow.text).where(UnitRow.run_id == run_id))) | _words(
        session.scalars(select(UnitRow.lemmas).where(UnitRow.run_id == run_id))
    )
    theirs = erased_words - remaining
    changed = 0
    for theme in session.scalars(select(ThemeRow).where(ThemeRow.run_id == run_id)):
        keywords = [k for k in theme.keywords if not _words([k]) & theirs]
        label = theme.label if not _words([theme.label]) & theirs else _fallback_label(keywords)
        net_label = theme.net_label if not _words([theme.net_label]) & theirs else label
        if (keywords, label, net_label) != (theme.keywords, theme.label, theme.net_label):
            theme.keywords, theme.label, theme.net_label = keywords, label, net_label
            changed += 1
    return changed


def _fallback_label(keywords: list[str]) -> str:
    return " · ".join(keywords[:3]) if keywords else say("erase.unnamed_theme")


def _export_again(store: Store, run_id: str) -> int:
    """The run's exports written again without the erased answers, in a new folder that then replaces the old
    one: no file of the old export (a chart, a deck) can stay behind."""
    from review.runs import export_reviewed  # the exporters and the embedder: only when a run is rewritten

    with store.reading() as session:
        out_dir = _export_folder(store.run(session, run_id).out_dir)
    if out_dir is None:
        return 0
    fresh = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex[:8]}")
    try:
        export_reviewed(store, run_id, fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(out_dir)
    fresh.rename(out_dir)
    return 1


def _export_folder(out_dir: str) -> Path | None:
    """The run's exports folder if it is still there and is one: an ``--out`` given as "." or a folder the
    analyst has since reused for something else is not removed whole."""
    folder = Path(out_dir) if out_dir else None
    if folder is None or not (folder / "manifest.json").is_file() or folder.resolve() in {Path.cwd(), Path.home()}:
        return None
    return folder


def _delete_upload(store: Store, run_id: str) -> int:
    """The web page's copy of the run's file, if one is still there (files of a name, of the same content)."""
    with store.reading() as session:
        run = store.run(session, run_id)
        name, sha256 = Path(run.input_file).name, run.input_sha256
    removed = 0
    for path in UPLOADS.glob(f"*/{name}") if name else ():
        if path.is_file() and file_sha256(path) == sha256:
            shutil.rmtree(path.parent)
            removed += 1
    return removed


def _queue_key(store: Store, run_id: str) -> str:
    """The review queue's folder of the run, as ``review.queue_run`` names it from its texts and lemmas."""
    with store.reading() as session:
        embedder = store.run(session, run_id).embedder
        rows = session.execute(
            select(UnitRow.text, UnitRow.lemmas).where(UnitRow.run_id == run_id).order_by(UnitRow.position)
        ).all()
    texts, lemmas = [r.text for r in rows], [r.lemmas for r in rows]
    return content_key(embedder, *texts, "\x01", *lemmas)


def _forget(texts: list[str], queue_keys: list[str], erasure: Erasure) -> None:
    """The texts out of the content caches and Prefect's results; the queue's folders of the runs."""
    erasure.add("cache_entries", _scrub_cache(cache_dir() / "cache.sqlite", texts))
    # charts and the last themes (their labels quote answers) are drawn or learnt from many answers, under no
    # text's key: all go, to be drawn or clustered again by the next run
    for namespace in (charts.CACHE_NAMESPACE, placement.CACHE_NAMESPACE):
        cache = BlobCache(cache_dir() / "cache.sqlite", namespace)
        try:
            erasure.add("cache_entries", cache.clear())
        finally:
            cache.close()
    erasure.add("prefect_results", _drop_results(_results_folder(), texts))
    for key in queue_keys:
        folder = cache_dir() / "queue" / key[:32]
        if folder.is_dir():
            shutil.rmtree(folder)
            erasure.add("queue_folders", 1)
    # each run's units as the queue first read them (review.queue_run): named by run and version, not by texts, so
    # all go; the queue reads them again from the store, in about a second per run
    read_runs = cache_dir() / "queue" / "runs"
    if read_runs.is_dir():
        erasure.add("queue_folders", 1)
        shutil.rmtree(read_runs)


def _scrub_cache(path: Path, texts: list[str]) -> int:
    """Embeddings by their key (the text's content key); cleaning results by what they hold: each is JSON
    (``{"units": [[text, lemmas], ...]}``) under the raw answer's key, which the store does not keep. One pass
    over each table, whatever the number of texts."""
    if not texts or not path.exists():
        return 0
    keys = [content_key(t) for t in texts]
    wanted = set(texts)
    connection = sqlite3.connect(path, timeout=60)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        removed = 0
        with connection:
            for table in tables:
                holding = [k for k, v in connection.execute(f"SELECT k, v FROM {table}") if _unit_texts(v) & wanted]
                for chunk in _chunks(keys + holding):
                    marks = ",".join("?" * len(chunk))
                    removed += connection.execute(f"DELETE FROM {table} WHERE k IN ({marks})", chunk).rowcount
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return removed


def _unit_texts(value: bytes) -> set[str]:
    """The unit texts of a cleaning result; nothing for an embedding (float32 bytes) or a set-aside answer."""
    if not value.startswith(b'{"units"'):
        return set()
    try:
        return {unit[0] for unit in json.loads(value)["units"]}
    except (ValueError, KeyError, TypeError, IndexError):
        return set()


def _chunks(items: list[str], size: int = 900) -> list[list[str]]:  # SQLite's bound on query parameters
    return [items[start : start + size] for start in range(0, len(items), size)]


def _results_folder() -> Path:
    """Where Prefect keeps persisted task results: ``flows/__init__`` defaults it to the cache's
    ``prefect-results`` unless the environment names another place (flows is a layer above: not imported)."""
    return Path(os.environ.get("PREFECT_LOCAL_STORAGE_PATH") or cache_dir() / "prefect-results").expanduser()


def _drop_results(folder: Path, texts: list[str]) -> int:
    """Every result file whose pickled value holds one of the texts (cloudpickle writes a str as UTF-8)."""
    if not texts or not folder.is_dir():
        return 0
    needles = [t.encode() for t in _spread(texts, MAX_NEEDLES)]
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and any(needle in _result_bytes(path) for needle in needles):
            path.unlink()
            removed += 1
    return removed


def _spread(texts: list[str], n: int) -> list[str]:
    """At most ``n`` of the texts, evenly spaced: a result of a whole run's stage (clustering, ranking) holds
    them all, a batch's (cleaning) a contiguous stretch of them, so spaced ones find every file of the run
    without searching each file for each of a big run's texts."""
    step = max(1, -(-len(texts) // n))
    return texts[::step]


def _result_bytes(path: Path) -> bytes:
    """A result file's serialized value: a JSON record with the pickle in base64, or the raw bytes."""
    raw = path.read_bytes()
    try:
        return base64.b64decode(json.loads(raw)["result"])
    except (ValueError, KeyError, TypeError):
        return raw


def _prefect_database() -> Path | None:
    """The SQLite database of the Prefect server the commands start for themselves (``PREFECT_HOME``), where the
    flows' artifacts are kept; None when flows report to another server (``PREFECT_API_URL``): its database is
    out of reach, and its artifacts are for its administrator to delete."""
    from prefect.settings import get_current_settings  # Prefect's settings only: no server is started

    current = get_current_settings()
    url = current.server.database.connection_url.get_secret_value() if current.server.database.connection_url else ""
    if current.api.url or not url.startswith("sqlite"):
        return None
    return Path(url.split(":///", 1)[1])


def _drop_artifacts(run_ids: list[str]) -> int:
    """The runs' Prefect artifacts (``flows.tasks.publish_artifacts``): the ranked table, the report with its
    quotes, the link, each named after its run, and the events that copied them. They are snapshots of the run as
    analysed: deleted whole, the run's exports folder holds its current report. Deleted in Prefect's database
    directly, with ``secure_delete``: Prefect's API deletes rows but leaves their bytes in the file's free pages,
    and keeps its event log."""
    database = _prefect_database()
    if not run_ids or database is None or not database.exists():
        return 0
    connection = sqlite3.connect(database, timeout=60)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        removed = 0
        with connection:
            for run_id in run_ids:
                for table in ("artifact", "artifact_collection"):  # the collection keeps a copy of each key's latest
                    deleted = connection.execute(
                        # descriptions end with the run's id (say("artifact.ranked"), say("artifact.report"))
                        f"DELETE FROM {table} WHERE description LIKE ? OR instr(data, ?) > 0",
                        (f"%{run_id}", run_id),
                    ).rowcount
                    removed += deleted if table == "artifact" else 0
                # Prefect's event log copies an artifact's data into the event of its creation or update
                events = "SELECT id FROM events WHERE event LIKE 'prefect.artifact%' AND instr(payload, ?) > 0"
                connection.execute(f"DELETE FROM event_resources WHERE event_id IN ({events})", (run_id,))
                connection.execute(f"DELETE FROM events WHERE id IN ({events})", (run_id,))
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:  # no artifact table: Prefect never recorded one there
        return 0
    finally:
        connection.close()
    return removed


def _secure_delete(session) -> None:
    """SQLite otherwise leaves deleted rows' bytes in free pages of the file."""
    if session.bind.dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _compact(store: Store) -> None:
    """Old page versions out of the SQLite WAL; dead rows out of PostgreSQL's tables."""
    if store.engine.dialect.name == "sqlite":
        connection = store.engine.raw_connection()  # outside a transaction: a checkpoint cannot run inside one
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    elif store.engine.dialect.name == "postgresql":
        tables = ("respondents", "units", "excluded", "assignments", "themes", "review_events", "runs")
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in tables:
                connection.exec_driver_sql(f"VACUUM {table}")


def _log(store: Store, by: str, kind: str, identifier: str, erasure: Erasure) -> None:
    with store.session() as session:
        session.add(
            ErasureRow(by=by, kind=kind, subject_sha256=subject_hash(kind, identifier), removed=dict(erasure.removed))
        )
