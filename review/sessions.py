"""Signed-in browsers, kept in the store: the cookie carries only a random session id, and the store decides
whether it still holds. Signing out, a new password, a new role, disabling or removing the user, or an admin
ending them revokes sessions at once, in every server process that shares the store."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from pipeline.errors import UnavailableError
from review.store import SessionRow, Store, UserRow, as_utc, now

LIFETIME = timedelta(hours=8)  # a working day, however busy; then sign in again
# A browser left open on an unattended desk: two hours without a request ends the session, long enough for a
# meeting or lunch in the middle of a review, short enough that a forgotten tab does not stay signed in all day.
IDLE = timedelta(hours=2)
# last_seen is written at most this often: a read must not become a write (and a write lock) on every request
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """A session that holds: who, and the CSRF token their forms carry."""

    session_id: str
    username: str
    csrf: str


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(store: Store, username: str) -> SignedIn:
    """A new session with a new id and a new CSRF token: nothing a visitor held before signing in carries over
    (no session fixation)."""
    session_id, token, moment = secrets.token_urlsafe(32), secrets.token_urlsafe(32), now()
    with store.session() as session:
        session.add(
            SessionRow(
                id_sha256=digest(session_id),
                username=username,
                csrf=token,
                created_at=moment,
                last_seen=moment,
                expires_at=moment + LIFETIME,
            )
        )
    return SignedIn(session_id, username, token)


def find_session(store: Store, session_id: str) -> SignedIn | None:
    """The session if it holds: not revoked, not past its lifetime nor idle too long, its user still enabled."""
    key, moment = digest(session_id), now()
    with store.reading() as session:
        found = session.execute(
            select(SessionRow, UserRow.disabled_at)
            .join(UserRow, UserRow.username == SessionRow.username)
            .where(SessionRow.id_sha256 == key)
        ).first()
    if found is None:
        return None
    row, disabled_at = found
    last_seen = as_utc(row.last_seen)
    if row.revoked_at or disabled_at or moment >= as_utc(row.expires_at) or moment - last_seen >= IDLE:
        return None
    if moment - last_seen >= TOUCH_EVERY:
        # a locked or read-only store: the reader reads on, and is seen again at the next touch
        with suppress(UnavailableError), store.session() as session:
            session.execute(update(SessionRow).where(SessionRow.id_sha256 == key).values(last_seen=moment))
    return SignedIn(session_id, row.username, row.csrf)


def end_session(store: Store, session_id: str) -> None:
    _revoke(store, SessionRow.id_sha256 == digest(session_id))


def end_sessions(store: Store, username: str) -> int:
    """Revoke every open session of a user; the number that were still open (the message to the admin says it)."""
    return _revoke(store, SessionRow.username == username)


def _revoke(store: Store, which) -> int:
    moment = now()
    still_open = (SessionRow.revoked_at.is_(None), SessionRow.expires_at > moment, SessionRow.last_seen > moment - IDLE)
    with store.session() as session:
        return session.execute(update(SessionRow).where(which, *still_open).values(revoked_at=moment)).rowcount


def open_sessions(store: Store, username: str) -> int:
    """How many of a user's sessions still hold (for the admin's list of users)."""
    moment = now()
    with store.reading() as session:
        rows = session.scalars(
            select(SessionRow).where(SessionRow.username == username, SessionRow.revoked_at.is_(None))
        ).all()
    return sum(1 for row in rows if moment < as_utc(row.expires_at) and moment - as_utc(row.last_seen) < IDLE)


def sweep(store: Store) -> None:
    """Forget sessions past their lifetime (revoked or not); called at each sign-in, so the table stays small."""
    with store.session() as session:
        session.execute(delete(SessionRow).where(SessionRow.expires_at < now()))
