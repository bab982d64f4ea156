"""The review store: runs, respondents, idea units, themes, machine assignments, review events, models.

SQLite by default, PostgreSQL when ``VERBATIMS_DB`` is a ``postgresql://`` URL. The schema is created
and upgraded by Alembic migrations (``pipeline/migrations``) whenever the store is opened, so an old
database file keeps working after an upgrade of the product.

Review events are append-only: the current state of a run is derived from its machine assignments and
its events (``review.corrections``), never by updating rows in place.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    create_engine,
    event,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pipeline import settings
from pipeline.errors import InputError, NotFoundError, UnavailableError
from pipeline.messages import say

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision, and the table where Alembic keeps a store's: a store already at it is opened
# without importing Alembic (0.2 s of every command that opens the store, of the sample's 3.3 s cached run);
# tests/test_store.py checks that it is the migrations' head.
SCHEMA_HEAD = "0009"
VERSION_TABLE = "alembic_version"
# Driver error codes of a store that is there but cannot be used now (sqlite3's extended codes keep the primary
# one in their low byte; PostgreSQL's SQLSTATE for a write in a read-only transaction or server)
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 5, 6, 8
# How long a write waits for another writer's lock before the store is reported unavailable. Recording a run is the
# longest write: 1 to 2 s for 10,000 answers, 11 to 12 s for 100,000 (bench/RESULTS.md, speed and scale sections).
BUSY_TIMEOUT_MS = 30_000
POSTGRES_READ_ONLY = "25006"


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A moment read from the store, timezone-aware: SQLite hands back naive datetimes for timezone-aware
    columns, written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text_key(text: str) -> str:
    """Content identity of an idea unit across runs: case, accents and spacing do not matter."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return hashlib.sha1(" ".join(folded.split()).encode()).hexdigest()


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Run(Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "analyze" or "classify"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    input_file: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text, default="")
    embedder: Mapped[str] = mapped_column(Text)
    segment_columns: Mapped[list] = mapped_column(JSON, default=list)
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    out_dir: Mapped[str] = mapped_column(Text, default="")
    model_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    previous_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RespondentRow(Base):
    __tablename__ = "respondents"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    segments: Mapped[dict] = mapped_column(JSON, default=dict)


class UnitRow(Base):
    __tablename__ = "units"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(220), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    respondent_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    lemmas: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(String(40), index=True)


class ExcludedRow(Base):
    __tablename__ = "excluded"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class ThemeRow(Base):
    """A theme as the machine proposed it; reviewers' renames and merges live in events."""

    __tablename__ = "themes"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    theme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    from_codebook: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)  # new theme the model was unsure of
    coherence: Mapped[float | None] = mapped_column(Float, nullable=True)  # see pipeline.coherence
    mixed: Mapped[bool] = mapped_column(Boolean, default=False)  # still incoherent: ranked below coherent themes
    net_id: Mapped[str] = mapped_column(String(64), default="")  # the machine's net; "" (before nets): its own
    net_label: Mapped[str] = mapped_column(Text, default="")


class AssignmentRow(Base):
    """The machine's theme for a unit, with its runner-up: the margin between them feeds the review queue."""

    __tablename__ = "assignments"
    __table_args__ = (ForeignKeyConstraint(["run_id", "unit_id"], ["units.run_id", "units.unit_id"], ondelete="CASCADE"),)

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(220), primary_key=True)
    theme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    runner_up_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    runner_up_score: Mapped[float | None] = mapped_column(Float, nullable=True)


class EventRow(Base):
    """One review action. ``seq`` numbers a run's events; (run_id, seq) is unique, so two reviewers
    writing at the same instant cannot both take the same place in the history."""

    __tablename__ = "review_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_review_events_run_seq"),)

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    reviewer: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    touched: Mapped[list] = mapped_column(JSON)  # "unit:<id>" / "theme:<id>" keys, for stale-view checks


class ModelRow(Base):
    __tablename__ = "models"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[dict] = mapped_column(JSON)
    training_sha256: Mapped[str] = mapped_column(String(64))
    n_items: Mapped[int] = mapped_column(Integer)
    runs: Mapped[list] = mapped_column(JSON)
    codebook: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class PromotionRow(Base):
    """Append-only: the promoted model is the latest row; a rollback appends the one before it."""

    __tablename__ = "model_promotions"

    promotion_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(ForeignKey("models.version"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)


def _why_unavailable(exc: OperationalError) -> str:
    """By the driver's error code, not its message: SQLite's busy/locked and read-only, else the connection."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    code = code & 0xFF if code is not None else getattr(exc.orig, "sqlstate", None)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return say("store.locked")
    if code in (SQLITE_READONLY, POSTGRES_READ_ONLY):
        return say("store.read_only")
    return say("store.unreachable_now")


def database_url(value: str | None = None) -> str:
    """``VERBATIMS_DB`` as an SQLAlchemy URL: a file path or sqlite:// URL, or a postgresql:// URL. A server URL
    given without its password (``parameter_url``'s) gets it back from the settings when they name that server."""
    url = _sqlalchemy_url(value or settings.current().db)
    if "://" in url and not url.startswith("sqlite") and make_url(url).password is None:
        known = make_url(_sqlalchemy_url(settings.current().db))
        if known.password is not None and known._replace(password=None) == make_url(url):
            return known.render_as_string(hide_password=False)
    return url


def _sqlalchemy_url(value: str) -> str:
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        return value
    Path(value).parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{value}"


def parameter_url(value: str | None = None) -> str:
    """The store's URL as a flow parameter: without its password, which Prefect would keep in clear in its database
    (``flow_run.parameters``) and show on the run's page. The flow's tasks get it back from the settings
    (``database_url``), as the store opened by the command or the web page read it."""
    return make_url(database_url(value))._replace(password=None).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # a reviewer reading while a run is recorded does not block
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


_READS_ONLY: ContextVar[bool] = ContextVar("verbatims_store_reads_only", default=False)


@contextmanager
def reads_only() -> Iterator[None]:
    """Within this block every transaction on SQLite begins deferred, as ``Store.reading``'s do: for the web's GET
    requests, which read, so that no page waits behind (or holds up) another process's write. A GET that writes (a
    session seen again) still can: its transaction's first statement is the write, which waits for the lock."""
    token = _READS_ONLY.set(True)
    try:
        yield
    finally:
        _READS_ONLY.reset(token)


def _sqlite_begin(connection) -> None:
    """Take the write lock when a transaction starts: two reviewers' corrections then queue one after the
    other (busy_timeout) instead of failing with "database is locked" when both try to write."""
    # a read (Store.reading) begins deferred: it must not queue behind, nor hold up, the writers
    reading = connection.get_execution_options().get("reading") or _READS_ONLY.get()
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """The schema at its latest migration. A store already there is only read: opening it for a command that
    reads must not wait behind, nor hold up, another process's write; and Alembic is not imported for it."""
    with engine.connect().execution_options(reading=True) as connection:
        if inspect(connection).has_table(VERSION_TABLE):
            current = connection.scalars(select(column("version_num")).select_from(table(VERSION_TABLE))).all()
            if current == [SCHEMA_HEAD]:
                return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """A database connection with the schema at its latest migration."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.shown_url = shown = make_url(self.url).render_as_string(hide_password=True)
        try:
            self.engine = create_engine(self.url, future=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
                event.listen(self.engine, "begin", _sqlite_begin)
            migrate(self.engine)
        except OperationalError as exc:  # locked, read-only or unreachable: by its code, without the statement
            raise UnavailableError(say("store.unavailable", shown=shown, why=_why_unavailable(exc))) from None
        except Exception as exc:  # an unwritable file, a bad URL: say where, not a traceback
            raise InputError(say("store.unreachable", shown=shown, error=exc)) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._unavailable_as_typed(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it takes no write lock (see ``_sqlite_begin``)."""
        with self._unavailable_as_typed(), self._sessions() as session:
            session.connection(execution_options={"reading": True})
            yield session  # closing ends the transaction without expiring what was read

    @contextmanager
    def _unavailable_as_typed(self) -> Iterator[None]:
        """A locked, read-only or unreachable store as one ``UnavailableError`` naming the store: SQLAlchemy's own
        message carries the statement and its values (a new user's password hash, an answer's text)."""
        try:
            yield
        except OperationalError as exc:
            raise UnavailableError(say("store.unavailable", shown=self.shown_url, why=_why_unavailable(exc))) from None

    def run(self, session: Session, run_id: str) -> Run:
        run = session.get(Run, run_id)
        if run is None:
            known = session.scalars(select(Run.run_id).order_by(Run.created_at.desc()).limit(5)).all()
            hint = say("store.latest_runs", runs=", ".join(known)) if known else say("store.no_run")
            raise NotFoundError(say("store.unknown_run", run_id=run_id, hint=hint))
        return run

    def run_exists(self, run_id: str) -> None:
        with self.session() as session:
            self.run(session, run_id)

    def latest_run_id(self) -> str:
        with self.session() as session:
            run_id = session.scalar(select(Run.run_id).order_by(Run.created_at.desc()).limit(1))
        if run_id is None:
            raise NotFoundError(say("store.no_run"))
        return run_id


class UserRow(Base):
    """Someone who signs in to the web page: viewer (read, export), reviewer (correct) or admin (retrain, users)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SessionRow(Base):
    """A signed-in browser (``review.sessions``). Only the sha256 of its id is kept: a copy of the database
    signs no one in. The store, not the cookie, decides whether a session still holds."""

    __tablename__ = "sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailureRow(Base):
    """A failed sign-in (``review.throttle``): kept in the store so that every server process counts them."""

    __tablename__ = "login_failures"

    failure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class InboxFile(Base):
    """A file that arrived in the watched folder, by content: the primary key makes a claim atomic, so one
    file is analysed once even if two watchers look at the same moment or the file is dropped again."""

    __tablename__ = "inbox_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # running, waiting (to try again), processed, failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DoubleCodingRow(Base):
    """A unit given to a reviewer to code blind, beside another reviewer (agreement between coders)."""

    __tablename__ = "double_coding"
    __table_args__ = (ForeignKeyConstraint(["run_id", "unit_id"], ["units.run_id", "units.unit_id"], ondelete="CASCADE"),)

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(220), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    assigned_by: Mapped[str] = mapped_column(String(100))


class BlindCodingRow(Base):
    """A reviewer's themes for a unit given to them to code blind. Not a correction of the run: two reviewers
    coding the same unit must neither overwrite nor see each other's answer."""

    __tablename__ = "blind_codings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "unit_id", "reviewer"],
            ["double_coding.run_id", "double_coding.unit_id", "double_coding.reviewer"],
            ondelete="CASCADE",
        ),
    )

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(220), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True)
    themes: Mapped[list] = mapped_column(JSON)  # theme ids, the main one first; ["hors-sujet"] for off-topic
    coded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ShareLinkRow(Base):
    """A read-only link to a run's report for someone without an account (``review.shares``). Only the sha256
    of the link's token is kept: a copy of the database opens no report."""

    __tablename__ = "share_links"

    link_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class ErasureRow(Base):
    """One erasure (``review.erasure``): a respondent, a run or a user. The log holds no personal data: the
    subject is a sha256 of the identifier (an erasure request can be checked against it), never the identifier or
    a text."""

    __tablename__ = "erasures"

    erasure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    by: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # respondent, run or user
    subject_sha256: Mapped[str] = mapped_column(String(64))
    removed: Mapped[dict] = mapped_column(JSON)  # how many rows and files, by kind
