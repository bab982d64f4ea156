"""Sign-in throttling: after too many failures for one account, or from one client address, in a window, sign-in
is refused for a while without looking at the password, so guessing costs hours instead of seconds.

The failures are kept in the store, not in memory: several server processes share one store, and a restart
must not wipe the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from review.store import LoginFailureRow, Store, as_utc, now

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5  # one person mistyping does not reach it; a guesser gets 5 tries per quarter of an hour
PER_ADDRESS = 20  # an office behind one address holds several people, each allowed a few mistakes


@dataclass(frozen=True)
class Locked:
    """Sign-in refused: for how many seconds still."""

    retry_after: int


def attempt(store: Store, account: str, address: str) -> Locked | None:
    """A sign-in, recorded as a failure before its password is checked, then whether the account or the address is
    over its limit counting it. Counting first let a burst of simultaneous guesses all pass before any was recorded
    (30 at once were all checked against a limit of 5); a success clears the account's failures, this one included."""
    failed(store, account, address)
    return locked(store, account, address, counting_this=1)


def locked(store: Store, account: str, address: str, counting_this: int = 0) -> Locked | None:
    """Whether this account or this address has failed too often in the window (``counting_this``: recorded
    attempts that are not failures yet); until when, if so."""
    since = now() - WINDOW
    with store.reading() as session:
        waits = []
        for column, limit, value in (
            (LoginFailureRow.account, PER_ACCOUNT, _account(account)),
            (LoginFailureRow.address, PER_ADDRESS, _address(address)),
        ):
            recent = select(LoginFailureRow.failed_at).where(column == value, LoginFailureRow.failed_at >= since)
            count = session.scalar(select(func.count()).select_from(recent.subquery()))
            if count >= limit + counting_this:
                # the oldest failure that still counts leaves the window first: then one more try is allowed
                oldest = session.scalar(
                    recent.order_by(LoginFailureRow.failed_at.desc()).offset(limit - 1 + counting_this).limit(1)
                )
                waits.append(as_utc(oldest) + WINDOW - now())
    if not waits:
        return None
    return Locked(max(1, int(max(waits).total_seconds()) + 1))


def failed(store: Store, account: str, address: str) -> None:
    with store.session() as session:
        session.add(LoginFailureRow(account=_account(account), address=_address(address), failed_at=now()))
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at < now() - WINDOW))


def succeeded(store: Store, account: str) -> None:
    """The account's count starts again; the address's does not (one good password must not hide a guesser's)."""
    with store.session() as session:
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.account == _account(account)))


def _account(name: str) -> str:
    return name.strip()[:100]


def _address(address: str) -> str:
    return address[:64]
