"""Issue 18, case 18: a read-only or locked store is one French message (503 with Retry-After on the web), never a
traceback, a 500 or a statement with its values (a new user's password hash); pages read without waiting on writers."""

import re
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient
from test_web import PASSWORD, sign_in

import review.store
from pipeline.errors import UnavailableError
from review.corrections import load_state
from review.store import Store
from review.users import add_user
from web.app import create_app


def test_a_read_only_store_refuses_a_write_without_the_statement_or_the_hash(tmp_path):
    path = tmp_path / "ro.sqlite"
    Store(str(path))
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(UnavailableError) as refused:
        add_user(read_only, "zoe", "une phrase de passe assez longue", "viewer")
    message = str(refused.value)
    assert "en lecture seule" in message and "réessayez" in message
    assert "argon2" not in message and "INSERT" not in message and refused.value.__cause__ is None


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # another process's write lock is SQLite's case
def test_a_locked_store_answers_503_with_retry_after_and_pages_still_read(recorded_run, monkeypatch):
    store, run = recorded_run
    add_user(store, "rita", PASSWORD, "reviewer")
    client = TestClient(create_app(store, secret="s" * 32))
    sign_in(client, "rita")
    version, token = client.get(f"/api/runs/{run}").json()["version"], _token(client)
    unit = next(iter(load_state(store, run).labels))
    monkeypatch.setattr(review.store, "BUSY_TIMEOUT_MS", 200)  # new connections give up after 0.2 s
    store.engine.dispose()
    other = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.perf_counter()
        page = client.get(f"/runs/{run}")
        assert page.status_code == 200  # reading takes no lock
        write = client.post(
            f"/api/runs/{run}/corrections",
            json={"action": "off_topic", "unit": unit, "seen": version},
            headers={"X-CSRF-Token": token},
        )
        assert write.status_code == 503 and write.headers["Retry-After"] == "30"
        assert "verrouillée par un autre processus" in write.json()["detail"]
        assert time.perf_counter() - started < 10
    finally:
        other.execute("ROLLBACK")
        other.close()


def _token(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_a_signed_in_reader_reads_a_read_only_store(tmp_path, monkeypatch):
    """Reading a page touches the session's last-seen time now and then: on a read-only store that write is skipped,
    not turned into a 500 (the page answered 500 in English, then the connection was reset)."""
    from review import sessions

    path = tmp_path / "ro.sqlite"
    add_user(Store(str(path)), "vera", PASSWORD, "viewer")
    client = TestClient(create_app(Store(str(path)), secret="s" * 32))
    sign_in(client, "vera")
    monkeypatch.setattr(sessions, "TOUCH_EVERY", sessions.TOUCH_EVERY * 0)  # every request wants to touch
    read_only = TestClient(create_app(Store(f"sqlite:///file:{path}?mode=ro&uri=true"), secret="s" * 32))
    read_only.cookies = client.cookies
    assert read_only.get("/api/runs").status_code == 200
