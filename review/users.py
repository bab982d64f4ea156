"""People who use the web page, their roles, and their passwords (Argon2 hashes, never the passwords)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import select

from pipeline.errors import InputError
from pipeline.messages import say
from review.store import Store, UserRow

ROLES = ("viewer", "reviewer", "admin")  # each can do what the ones before it can
_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def can(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def add_user(store: Store, username: str, password: str, role: str) -> None:
    username = username.strip()
    if not username or len(username) > 100:
        raise InputError(say("user.name_length"))
    if role not in ROLES:
        raise InputError(say("user.role", roles=", ".join(ROLES)))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(say("user.password_length", n=MIN_PASSWORD_LENGTH))
    with store.session() as session:
        user = session.get(UserRow, username)
        if user is None:
            session.add(UserRow(username=username, password_hash=_HASHER.hash(password), role=role))
        else:  # same name again: a new password and role
            user.password_hash, user.role = _HASHER.hash(password), role


def authenticate(store: Store, username: str, password: str) -> UserRow | None:
    with store.session() as session:
        user = session.get(UserRow, username.strip())
        if user is None:
            _HASHER.hash(password)  # same time spent whether or not the user exists
            return None
        try:
            _HASHER.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError):
            return None
        return user


def list_users(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(u.username, u.role) for u in session.scalars(select(UserRow).order_by(UserRow.username))]


def user_role(store: Store, username: str) -> str | None:
    with store.session() as session:
        user = session.get(UserRow, username)
        return user.role if user else None
