"""Signed session cookies with a CSRF token; they expire, and roles are read from the store at each request."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from pipeline import settings

COOKIE = "verbatims_session"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again


@dataclass
class Session:
    username: str | None
    csrf: str
    changed: bool = False


class SessionCodec:
    def __init__(self, secret: str | None = None):
        # VERBATIMS_SECRET keeps sessions valid across restarts; without it each start signs everyone out
        self._serializer = URLSafeTimedSerializer(secret or settings.current().secret or secrets.token_hex(32))

    def load(self, cookie: str | None) -> Session:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
                return Session(data.get("u"), data["csrf"])
            except (BadSignature, KeyError, TypeError):
                pass
        return Session(None, secrets.token_urlsafe(32), changed=True)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"u": session.username, "csrf": session.csrf})


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a, b)
