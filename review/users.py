"""People who use the web page, their roles, and their passwords (Argon2 hashes, never the passwords)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import select
from zxcvbn import zxcvbn

from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say
from review.sessions import end_sessions
from review.store import Store, UserRow, now

ROLES = ("viewer", "reviewer", "admin")  # each can do what the ones before it can
_HASHER = PasswordHasher()
# NIST SP 800-63B: length, and a check against common and guessable passwords, rather than composition rules
MIN_PASSWORD_LENGTH = 12
MIN_STRENGTH = 3  # zxcvbn's score (0–4): 3 is "safely unguessable", about 10^8 guesses and more
# runs people type instead of a password: the alphabet, digits, and French and English keyboard rows
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "azertyuiopqsdfghjklmwxcvbn", "qwertyuiopasdfghjklzxcvbnm")


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    disabled: bool


def can(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def add_user(store: Store, username: str, password: str, role: str) -> None:
    username = username.strip()
    if not username or len(username) > 100:
        raise InputError(say("user.name_length"))
    if role not in ROLES:
        raise InputError(say("user.role", roles=", ".join(ROLES)))
    check_password(password, username)
    with store.session() as session:
        user = session.get(UserRow, username)
        if user is None:
            session.add(UserRow(username=username, password_hash=_HASHER.hash(password), role=role))
        else:  # same name again: a new password and role, so whoever held the old ones is signed out
            user.password_hash, user.role = _HASHER.hash(password), role
    end_sessions(store, username)


def check_password(password: str, username: str = "") -> None:
    """Refuse a password anyone could guess, saying which rule it breaks."""
    if not password.strip():
        raise InputError(say("user.password_blank"))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(say("user.password_length", n=MIN_PASSWORD_LENGTH))
    folded = "".join(password.casefold().split())
    if len(set(folded)) == 1:
        raise InputError(say("user.password_repeated"))
    if _sequence_length(folded) * 2 >= len(folded):
        raise InputError(say("user.password_sequence"))
    if len(username) >= 3 and username.casefold() in folded:
        raise InputError(say("user.password_username"))
    if zxcvbn(password, user_inputs=[username])["score"] < MIN_STRENGTH:
        raise InputError(say("user.password_guessable"))


def _sequence_length(folded: str) -> int:
    """The longest part of the password that is a run of the alphabet, the digits or a keyboard row, either way."""
    runs = SEQUENCES + tuple(s[::-1] for s in SEQUENCES)
    longest = 0
    for start in range(len(folded)):
        end = start + longest + 1
        while end <= len(folded) and any(folded[start:end] in run for run in runs):
            longest, end = end - start, end + 1
    return longest


def authenticate(store: Store, username: str, password: str) -> UserRow | None:
    with store.session() as session:
        user = session.get(UserRow, username.strip())
    try:
        # an unknown user's password is checked against a dummy hash: the same time spent whether or not they exist
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError):
        return None
    return user if user and user.disabled_at is None else None


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("no one signs in with this")


def list_users(store: Store) -> list[Account]:
    with store.reading() as session:
        users = session.scalars(select(UserRow).order_by(UserRow.username)).all()
    return [Account(u.username, u.role, u.disabled_at is not None) for u in users]


def reset_password(store: Store, username: str, password: str) -> int:
    """A new password; the user's sessions end (their number)."""
    check_password(password, username)
    with store.session() as session:
        _user(session, username).password_hash = _HASHER.hash(password)
    return end_sessions(store, username)


def set_disabled(store: Store, username: str, disabled: bool) -> int:
    """A disabled user cannot sign in, and their sessions end (their number); enabled, they can sign in again."""
    with store.session() as session:
        _user(session, username).disabled_at = now() if disabled else None
    return end_sessions(store, username)


def remove_user(store: Store, username: str) -> int:
    """The account goes, and its sessions with it (their number); what they reviewed stays in the event log."""
    ended = end_sessions(store, username)
    with store.session() as session:
        session.delete(_user(session, username))
    return ended


def _user(session, username: str) -> UserRow:
    user = session.get(UserRow, username.strip())
    if user is None:
        raise NotFoundError(say("user.unknown", username=username))
    return user


def user_role(store: Store, username: str) -> str | None:
    """The role of an enabled user; None for a disabled or unknown one."""
    with store.reading() as session:
        user = session.get(UserRow, username)
        return user.role if user and user.disabled_at is None else None
