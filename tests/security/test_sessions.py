"""Issue 18, cases 1–5 (sessions and accounts): each attack of the adversarial pass, replayed, now fails.

1. a cookie from before sign-out reads and writes nothing; 2. a new password, a new role, disabling, removing or an
admin's "end sessions" ends a user's sessions; 3. sign-in is throttled per account and per address, the right
password refused too while locked; 4. weak passwords are refused, saying why; 5. a short VERBATIMS_SECRET is
refused, a cookie forged even with the right secret signs no one in, the CSRF token changes at sign-in, Secure
cookies behind TLS, and the anti-framing and no-store headers on every page and API answer.
Store-level parts run on SQLite and PostgreSQL (the ``store`` fixture); web parts on a real SQLite store.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from test_web import PASSWORD, sign_in
from typer.testing import CliRunner

from cli.main import app as cli_app
from pipeline import settings
from pipeline.errors import InputError, NotFoundError
from review import sessions, throttle
from review.corrections import load_state
from review.sessions import IDLE, LIFETIME, TOUCH_EVERY, end_sessions, find_session, open_session
from review.store import ErasureRow, SessionRow, Store, now
from review.users import add_user, authenticate, check_password, list_users, reset_password, set_disabled
from web.app import create_app
from web.session import COOKIE

SECRET = "s" * 32
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(client: TestClient) -> str:
    return CSRF.search(client.get("/login").text).group(1)


@pytest.fixture
def site(tmp_path):
    store = Store(str(tmp_path / "sessions.sqlite"))
    for role in ("viewer", "reviewer", "admin"):
        add_user(store, role, PASSWORD, role)
    return store, TestClient(create_app(store, secret=SECRET))


def reads(client: TestClient) -> int:
    return client.get("/api/runs").status_code


# Case 1: sign-out ends the session


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the store part of sessions runs on both below
def test_a_cookie_from_before_sign_out_reads_and_writes_nothing(recorded_run):
    store, run = recorded_run
    add_user(store, "rita", PASSWORD, "reviewer")
    client = TestClient(create_app(store, secret=SECRET))
    _, token = sign_in(client, "rita")
    stolen = client.cookies[COOKIE]
    queue = client.get(f"/api/runs/{run}/queue").json()
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    replay = TestClient(client.app, cookies={COOKIE: stolen})
    assert reads(replay) == 401
    off = {"action": "off_topic", "unit": queue["items"][0]["unit_id"], "seen": queue["version"]}
    refused = replay.post(f"/api/runs/{run}/corrections", json=off, headers={"X-CSRF-Token": token})
    assert refused.status_code == 401 and load_state(store, run).version == queue["version"]


# Case 2: a user's sessions end with a new password, a new role, disabling, removal, or an admin's word


def test_a_new_password_or_role_or_disabling_ends_the_users_sessions(site):
    store, client = site
    new = "un tout autre mot de passe"
    changes = (
        lambda: reset_password(store, "reviewer", new),
        lambda: add_user(store, "reviewer", new, "viewer"),  # a new role (the same password, hashed again)
        lambda: set_disabled(store, "reviewer", True),
    )
    for change, password in zip(changes, (PASSWORD, new, new), strict=True):
        assert sign_in(client, "reviewer", password)[0].status_code == 303 and reads(client) == 200
        change()
        assert reads(client) == 401
    # disabled: the right password no longer signs in
    response, _ = sign_in(client, "reviewer", "un tout autre mot de passe")
    assert response.status_code == 200 and reads(client) == 401
    set_disabled(store, "reviewer", False)
    assert sign_in(client, "reviewer", "un tout autre mot de passe")[0].status_code == 303 and reads(client) == 200


def test_an_admin_ends_disables_and_removes_from_the_page(site):
    store, admin = site
    _, token = sign_in(admin, "admin")
    viewer = TestClient(admin.app)
    sign_in(viewer, "viewer")
    page = admin.get("/").text
    assert 'action="/users/viewer/end-sessions"' in page and "Fermer ses sessions" in page and "Désactiver" in page
    forged = admin.post("/users/viewer/end-sessions", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and reads(viewer) == 200
    ended = admin.post("/users/viewer/end-sessions", data={"csrf_token": token})
    assert ended.status_code == 200 and "viewer : 1 session fermée" in ended.text and reads(viewer) == 401
    sign_in(viewer, "viewer")
    disabled = admin.post("/users/viewer/disable", data={"csrf_token": token})
    assert "utilisateur viewer désactivé ; 1 session fermée" in disabled.text and reads(viewer) == 401
    assert "— désactivé" in disabled.text and 'action="/users/viewer/enable"' in disabled.text
    weak = admin.post("/users/viewer/password", data={"csrf_token": token, "password": "12345678"})
    assert weak.status_code == 400 and "au moins 12 caractères" in weak.text
    unticked = admin.post("/users/viewer/remove", data={"csrf_token": token})
    assert unticked.status_code == 400 and "cochez la case de confirmation" in unticked.text
    removed = admin.post("/users/viewer/remove", data={"csrf_token": token, "confirm": "oui"})
    assert "utilisateur viewer supprimé ; 0 session fermée" in removed.text
    assert [a.username for a in list_users(store)] == ["admin", "reviewer"]
    with store.reading() as session:  # the removal is in the erasure log: who and what kind, not the name
        (logged,) = session.scalars(select(ErasureRow)).all()
    assert (logged.by, logged.kind) == ("admin", "user") and "viewer" not in str(logged.removed)
    assert sign_in(viewer, "viewer")[0].status_code == 200 and reads(viewer) == 401
    yourself = admin.post("/users/admin/remove", data={"csrf_token": token})
    assert yourself.status_code == 403 and "demandez-le à un autre administrateur" in yourself.text
    assert admin.post("/users/admin/disable", data={"csrf_token": token}).status_code == 403 and reads(admin) == 200
    as_reviewer = TestClient(admin.app)
    _, reviewer_token = sign_in(as_reviewer, "reviewer")
    assert as_reviewer.post("/users/admin/disable", data={"csrf_token": reviewer_token}).status_code == 403


def test_the_users_commands_list_disable_reset_and_remove_in_french(site, monkeypatch):
    store, client = site
    monkeypatch.setattr(settings, "_current", None)  # --db configures the settings: undone after
    monkeypatch.delenv("VERBATIMS_PASSWORD", raising=False)
    cli = CliRunner()

    def users(*args: str, **kwargs):
        return cli.invoke(cli_app, ["users", *args, "--db", store.url.removeprefix("sqlite:///")], **kwargs)

    sign_in(client, "reviewer")
    assert users("disable", "reviewer").output == "utilisateur reviewer désactivé ; 1 session fermée\n"
    assert reads(client) == 401
    assert users("list").output == "admin  admin\nreviewer  reviewer  (désactivé)\nviewer  viewer\n"
    assert users("enable", "reviewer").output == "utilisateur reviewer réactivé\n"
    sign_in(client, "reviewer")
    reset = users("reset-password", "reviewer", input="un nouveau mot de passe solide\n" * 2)
    assert reset.exit_code == 0 and "nouveau mot de passe de reviewer enregistré ; 1 session fermée" in reset.output
    assert reads(client) == 401 and authenticate(store, "reviewer", "un nouveau mot de passe solide")
    monkeypatch.setenv("VERBATIMS_PASSWORD", "aaaaaaaaaaaaaaaa")
    monkeypatch.setattr(settings, "_current", None)
    weak = users("reset-password", "viewer")
    assert weak.exit_code == 2 and "erreur : un mot de passe ne peut pas être un seul caractère répété" in weak.stderr
    gone = users("remove", "ghost", "--yes")
    assert gone.exit_code == 2 and "utilisateur inconnu : ghost" in gone.stderr
    # the password never on the command line, where `ps` shows it to everyone on the machine
    flag = users("add", "ana", "--role", "viewer", "--password", "un mot de passe assez long")
    assert flag.exit_code == 2 and "--password" in flag.stderr
    kept = users("remove", "viewer", input="n\n")  # it asks first: no is no
    assert kept.exit_code == 1 and "viewer" in [a.username for a in list_users(store)]
    assert users("remove", "viewer", "--yes").output == "utilisateur viewer supprimé ; 0 session fermée\n"
    assert [a.username for a in list_users(store)] == ["admin", "reviewer"]


def test_sessions_in_the_store_end_when_idle_or_old_and_are_touched_once_a_minute(store, monkeypatch):
    add_user(store, "rita", PASSWORD, "reviewer")
    start = now()
    signed_in = open_session(store, "rita")
    with store.session() as session:
        row = session.get(SessionRow, sessions.digest(signed_in.session_id))
        assert signed_in.session_id not in (row.id_sha256, row.csrf)  # only the id's digest is kept

    def at(delta: timedelta):
        monkeypatch.setattr(sessions, "now", lambda: start + delta)
        return find_session(store, signed_in.session_id)

    def last_seen():
        with store.session() as session:
            return session.get(SessionRow, sessions.digest(signed_in.session_id)).last_seen

    first = last_seen()
    assert at(TOUCH_EVERY / 2).csrf == signed_in.csrf and last_seen() == first  # a read stays a read
    assert at(TOUCH_EVERY * 2) is not None and last_seen() != first
    step = IDLE - timedelta(minutes=5)  # never idle for two hours
    moments = [TOUCH_EVERY * 2 + step * i for i in range(1, 6)]
    assert moments[-2] < LIFETIME < moments[-1]
    assert [at(moment) is not None for moment in moments] == [True] * 4 + [False]  # busy all day, ended at 8 h
    later = start + LIFETIME + TOUCH_EVERY  # the first session has ended by then
    monkeypatch.setattr(sessions, "now", lambda: later)
    other = open_session(store, "rita")
    assert find_session(store, other.session_id) is not None
    monkeypatch.setattr(sessions, "now", lambda: later + IDLE)
    assert find_session(store, other.session_id) is None  # idle for two hours
    monkeypatch.setattr(sessions, "now", lambda: later)
    assert end_sessions(store, "rita") == 1 and find_session(store, other.session_id) is None
    assert find_session(store, "not-a-session") is None


# Case 3: sign-in throttled


def test_the_sixth_wrong_password_locks_the_account_and_the_right_one_is_refused_too(site, monkeypatch):
    store, client = site
    for _ in range(throttle.PER_ACCOUNT):
        response, _ = sign_in(client, "viewer", "not the password at all")
        assert response.status_code == 200 and "mot de passe incorrect" in response.text
    locked, _ = sign_in(client, "viewer")
    assert locked.status_code == 429 and reads(client) == 401
    wait = int(locked.headers["retry-after"])
    assert 0 < wait <= throttle.WINDOW.total_seconds() + 1
    assert "Trop de tentatives de connexion : réessayez dans 15 minutes." in locked.text
    assert sign_in(client, "reviewer")[0].status_code == 303  # another account, same address: still open
    monkeypatch.setattr(throttle, "now", lambda: now() + timedelta(seconds=wait))
    assert sign_in(client, "viewer")[0].status_code == 303 and reads(client) == 200


def test_simultaneous_guesses_cannot_outrun_the_lock(site):
    """12 wrong passwords sent at once: each is recorded before its password is checked, so at most 5 are checked
    (before, all 12 were: the count was read before any of them was recorded)."""
    store, client = site
    tokens = []
    for _ in range(12):
        guesser = TestClient(client.app)
        tokens.append((guesser, token_of(guesser)))

    def guess(pair) -> int:
        guesser, token = pair
        form = {"username": "viewer", "password": "une devinette de plus", "csrf_token": token, "next": "/"}
        return guesser.post("/login", data=form, follow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(guess, tokens))
    assert statuses.count(200) <= throttle.PER_ACCOUNT and statuses.count(429) >= 12 - throttle.PER_ACCOUNT


def test_one_address_trying_many_accounts_is_locked_too(site):
    store, client = site
    names = [f"inconnu{i}" for i in range(throttle.PER_ADDRESS)]  # unknown users count as failures too
    for name in names:
        assert sign_in(client, name, "x")[0].status_code == 200
    locked, _ = sign_in(client, "admin")
    assert locked.status_code == 429 and "retry-after" in locked.headers and reads(client) == 401


def test_throttle_in_the_store_counts_per_account_and_address_and_forgets(store, monkeypatch):
    for _ in range(throttle.PER_ACCOUNT - 1):
        throttle.failed(store, "rita", "10.0.0.1")
    assert throttle.locked(store, "rita", "10.0.0.2") is None
    throttle.failed(store, "rita", "10.0.0.2")
    lock = throttle.locked(store, " rita ", "10.0.0.3")
    assert lock is not None and 0 < lock.retry_after <= throttle.WINDOW.total_seconds() + 1
    assert throttle.locked(store, "vera", "10.0.0.1") is None
    later = now() + throttle.WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(throttle, "now", lambda: later)
    assert throttle.locked(store, "rita", "10.0.0.3") is None
    monkeypatch.setattr(throttle, "now", now)
    throttle.succeeded(store, "rita")
    assert throttle.locked(store, "rita", "10.0.0.1") is None


# Case 4: the password policy


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("        ", "que d'espaces"),
        ("            ", "que d'espaces"),
        ("12345678", "au moins 12 caractères"),
        ("aaaaaaaaaaaa", "un seul caractère répété"),
        ("azertyuiop12", "une suite simple"),
        ("123456789012", "une suite simple"),
        ("QWERTYUIOPasd", "une suite simple"),
        ("nina-secret-nina-2024", "le nom d'utilisateur"),
        ("motdepasse123", "trop facile à deviner"),
        ("password1234", "trop facile à deviner"),
    ],
)
def test_weak_passwords_are_refused_saying_which_rule(site, password, rule):
    store, _ = site
    with pytest.raises(InputError, match=rule):
        add_user(store, "nina", password, "viewer")
    with pytest.raises(InputError, match=rule):
        reset_password(store, "viewer", password.replace("nina", "viewer"))
    with pytest.raises(NotFoundError):
        reset_password(store, "nina", "un mot de passe assez long")


def test_long_uncommon_passwords_pass():
    for password in (PASSWORD, "un mot de passe assez long", "Chaussettes-Orange-Vent-42"):
        check_password(password, "nina")


# Case 5: secret, cookies, CSRF rotation, headers


def test_a_short_secret_is_refused_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "_current", None)
    monkeypatch.setenv("VERBATIMS_SECRET", "a")
    with pytest.raises(InputError, match=r"VERBATIMS_SECRET est trop court \(1 octet\) : il en faut au moins 32"):
        create_app(Store(str(tmp_path / "short.sqlite")))
    served = CliRunner().invoke(cli_app, ["serve", "--db", str(tmp_path / "short.sqlite")])
    assert served.exit_code == 2 and "erreur : VERBATIMS_SECRET est trop court (1 octet)" in served.stderr
    monkeypatch.setenv("VERBATIMS_SECRET", "b" * 32)
    monkeypatch.setattr(settings, "_current", None)
    assert create_app(Store(str(tmp_path / "short.sqlite"))) is not None


def test_a_cookie_forged_with_the_secret_itself_signs_no_one_in(site):
    _, client = site
    forger = URLSafeTimedSerializer(SECRET)  # even knowing the secret: the store holds the sessions
    for forged in ({"u": "admin", "csrf": "x"}, {"s": "made-up-session-id"}, {"s": None}, ["admin"]):
        visitor = TestClient(client.app, cookies={COOKIE: forger.dumps(forged)})
        assert reads(visitor) == 401


def test_the_csrf_token_changes_at_sign_in_and_at_sign_out(site):
    _, client = site
    before = token_of(client)
    assert token_of(client) == before  # stable while anonymous, so the sign-in form works
    _, during = sign_in(client, "viewer")
    assert during != before and token_of(client) == during
    old_cookie = client.cookies[COOKIE]
    client.post("/logout", data={"csrf_token": during}, follow_redirects=False)
    after = token_of(client)
    assert after not in (before, during) and client.cookies[COOKIE] != old_cookie


def test_security_headers_on_pages_and_api_and_secure_cookies_behind_tls(site):
    _, client = site
    sign_in(client, "admin")
    for path in ("/login", "/", "/api/runs", "/api/nothing-here"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]  # the CSP the app already sent, kept
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store", path
        assert headers["referrer-policy"] == "same-origin", path
    plain = TestClient(client.app).get("/login").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=strict" in plain and "Secure" not in plain
    with settings.overridden(https=True):
        behind_tls = TestClient(client.app).get("/login").headers["set-cookie"]
    assert "Secure" in behind_tls and "SameSite=strict" in behind_tls
    assert settings.Settings.from_env({"VERBATIMS_HTTPS": "1"}).https is True
