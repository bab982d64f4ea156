"""Read-only links to a run's report, for readers without an account: made by an admin, expiring, revocable.

A link's token is ``secrets.token_urlsafe(32)`` (256 random bits), given once when the link is made; the store
keeps only its sha256. The token is not also signed (itsdangerous and the app secret): a signature proves that
the server wrote a value's content, and this token has no content to trust, only 256 bits nobody can guess.
Expiry and revocation have to be read from the store anyway; the hash means a copy of the database opens no
report; and links do not die when the secret changes (without VERBATIMS_SECRET, at every server start).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pipeline.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from pipeline.messages import say
from review.store import ShareLinkRow, Store, as_utc, now

DAY_CHOICES = (1, 7, 30, 90)  # what the run page's form offers
DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_NOTE = 200
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) gives: anything else is no link of ours


class RevokedLinkError(NotFoundError):
    """The link existed but an admin revoked it."""


class ExpiredLinkError(ForbiddenError):
    """The link existed but its time is over."""


@dataclass(frozen=True)
class ShareLink:
    """A link as the run page and the command line list it (never with its token)."""

    link_id: int
    run_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    note: str

    def state(self, at: datetime | None = None) -> str:
        """The link's state at ``at`` (now by default): "revoked", "expired" or "active"."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (at or now()) else "active"


@dataclass(frozen=True)
class NewLink:
    """A link just made, with its token: the only time anyone sees the token."""

    link: ShareLink
    token: str


def address(token: str, base: str) -> str:
    """Where a token's report is read: ``base`` is the web server's address (web/routes/shares.py serves it)."""
    return f"{base.rstrip('/')}/partage/{token}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    store: Store, run_id: str, created_by: str, days: int | None = None, note: str = "", at: datetime | None = None
) -> NewLink:
    """A new link to ``run_id``'s report, open for ``days`` days (DEFAULT_DAYS if None) from ``at`` (now by default)."""
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise InputError(say("share.days", max=MAX_DAYS))
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InputError(say("share.note_long", max=MAX_NOTE))
    token = secrets.token_urlsafe(32)
    created = at or now()
    with store.session() as session:
        store.run(session, run_id)  # an unknown run: NotFoundError naming the latest runs
        row = ShareLinkRow(
            run_id=run_id,
            token_sha256=digest(token),
            created_by=created_by,
            created_at=created,
            expires_at=created + timedelta(days=days),
            note=note,
        )
        session.add(row)
        session.flush()  # gives the link its id
        return NewLink(_link(row), token)


def list_links(store: Store, run_id: str) -> list[ShareLink]:
    """A run's links, newest first, revoked and expired ones too (the run page says which is which)."""
    with store.session() as session:
        rows = session.scalars(
            select(ShareLinkRow).where(ShareLinkRow.run_id == run_id).order_by(ShareLinkRow.link_id.desc())
        )
        return [_link(r) for r in rows]


def revoke_link(store: Store, link_id: int, run_id: str | None = None, at: datetime | None = None) -> ShareLink:
    """Close a link for good. With ``run_id``, the link must be one of that run's (a form names both)."""
    with store.session() as session:
        row = session.get(ShareLinkRow, link_id)
        if row is None or (run_id is not None and row.run_id != run_id):
            raise NotFoundError(say("share.unknown_link", link_id=link_id))
        if row.revoked_at is not None:
            raise ConflictError(say("share.already_revoked", link_id=link_id))
        row.revoked_at = at or now()
        return _link(row)


def resolve(store: Store, token: str, at: datetime | None = None) -> str:
    """The run a token opens at ``at`` (now by default); NotFoundError for an unknown token, RevokedLinkError
    or ExpiredLinkError for a link that no longer opens anything."""
    if not _TOKEN.fullmatch(token):
        raise NotFoundError(say("share.unknown"))
    wanted = digest(token)
    with store.session() as session:
        # looked up by its hash, so timing tells a guesser only about a hash of their guess; compared in constant
        # time all the same, so that no index or collation quirk ever decides alone
        row = session.scalar(select(ShareLinkRow).where(ShareLinkRow.token_sha256 == wanted))
        if row is None or not secrets.compare_digest(row.token_sha256, wanted):
            raise NotFoundError(say("share.unknown"))
        link = _link(row)
    if link.revoked_at is not None:
        raise RevokedLinkError(say("share.revoked", at=link.revoked_at))
    if link.state(at) == "expired":
        raise ExpiredLinkError(say("share.expired", at=link.expires_at))
    return link.run_id


def _link(row: ShareLinkRow) -> ShareLink:
    return ShareLink(
        link_id=row.link_id,
        run_id=row.run_id,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        note=row.note,
    )
