"""The session cookie: a signed session id for a signed-in user (the store decides whether it still holds,
``review.sessions``), or a signed CSRF token alone for a visitor who has not signed in yet."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from pipeline import settings
from pipeline.errors import InputError
from pipeline.messages import plural, say
from review.sessions import LIFETIME, find_session
from review.store import Store

COOKIE = "verbatims_session"
SESSION_SECONDS = int(LIFETIME.total_seconds())  # the cookie lasts as long as the longest session
MIN_SECRET_BYTES = 32  # 256 bits: a short secret can be guessed offline from any cookie, then admin cookies forged


@dataclass
class Session:
    """What a request knows of its browser: the user (None before sign-in), the CSRF token its forms carry, and
    the session id of a signed-in user."""

    username: str | None
    csrf: str
    session_id: str | None = None
    changed: bool = False


class SessionCodec:
    def __init__(self, store: Store, secret: str | None = None):
        self._store = store
        # VERBATIMS_SECRET keeps anonymous visitors' CSRF tokens valid across restarts; without it each start
        # signs a new one (signed-in sessions live in the store either way)
        self._serializer = URLSafeTimedSerializer(secret or configured_secret() or secrets.token_hex(32))

    def load(self, cookie: str | None) -> Session:
        data = self._read(cookie)
        if "s" in data:
            found = find_session(self._store, str(data["s"]))
            if found is not None:
                return Session(found.username, found.csrf, found.session_id)
        elif "csrf" in data:
            return Session(None, str(data["csrf"]))
        return anonymous()

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"s": session.session_id} if session.session_id else {"csrf": session.csrf})

    def _read(self, cookie: str | None) -> dict:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
            except BadSignature:
                return {}
            return data if isinstance(data, dict) else {}
        return {}


def anonymous() -> Session:
    """A visitor not signed in, with a fresh CSRF token (a new cookie)."""
    return Session(None, secrets.token_urlsafe(32), changed=True)


def configured_secret() -> str | None:
    """VERBATIMS_SECRET, refused if it is too short to resist guessing (a French error when the server starts)."""
    secret = settings.current().secret
    if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
        raise InputError(say("session.secret_short", size=plural(len(secret.encode()), "byte"), min=MIN_SECRET_BYTES))
    return secret


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a.encode(), b.encode())  # str: ASCII only, else TypeError
