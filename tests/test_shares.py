"""Read-only links to a run's report (issue 17 item 8), on real SQLite and PostgreSQL stores: an admin makes one
from the run page, anyone holding it reads the report and downloads its files, and nothing else; a revoked or
expired link opens nothing and says so in French; only the token's hash is stored."""

import hashlib
import html
import io
import re
from datetime import timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from pipeline.errors import ConflictError, InputError, NotFoundError
from pipeline.exporters import downloads
from review.shares import ExpiredLinkError, RevokedLinkError, create_link, list_links, resolve, revoke_link
from review.store import ShareLinkRow, now
from review.users import add_user
from tests.test_french import english, visible
from tests.test_web import PASSWORD, netted_run, sign_in  # noqa: F401 (netted_run: a fixture, on this module's stores)

RUN = "netted"
PRIVATE = {"x-robots-tag": "noindex, nofollow", "cache-control": "no-store", "referrer-policy": "no-referrer"}


@pytest.fixture
def site(netted_run):  # noqa: F811
    """The netted run's app with an admin and a reviewer besides its viewer: (store, app)."""
    app = netted_run.app
    store = app.state.web.store
    add_user(store, "ada", PASSWORD, "admin")
    add_user(store, "rita", PASSWORD, "reviewer")
    return store, app


def signed_in(app, username: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    _, token = sign_in(client, username)
    return client, token


def shared_path(page: str) -> str:
    url = html.unescape(re.search(r'<code id="share-url">([^<]+)</code>', page).group(1))
    return url.removeprefix("http://testserver")


# The store: tokens, states, refusals


def test_only_the_tokens_hash_is_stored(site):
    store, _ = site
    made = create_link(store, RUN, "ada", days=7, note="pour la direction")
    assert len(made.token) == 43 and resolve(store, made.token) == RUN
    with store.engine.connect() as connection:
        rows = [tuple(map(str, row)) for row in connection.execute(text("SELECT * FROM share_links"))]
    assert len(rows) == 1 and not any(made.token in value for value in rows[0])
    with store.session() as session:
        row = session.scalar(select(ShareLinkRow))
        assert row.token_sha256 == hashlib.sha256(made.token.encode()).hexdigest()
    assert create_link(store, RUN, "ada").token != made.token


def test_a_link_opens_until_it_expires_or_is_revoked(site):
    store, _ = site
    made = create_link(store, RUN, "ada", days=7)
    assert made.link.expires_at - made.link.created_at == timedelta(days=7)
    assert resolve(store, made.token, at=now() + timedelta(days=6, hours=23)) == RUN
    with pytest.raises(ExpiredLinkError, match="a expiré le"):
        resolve(store, made.token, at=now() + timedelta(days=7, minutes=1))
    old = create_link(store, RUN, "ada", days=1, at=now() - timedelta(days=2))
    with pytest.raises(ExpiredLinkError):
        resolve(store, old.token)
    revoked = revoke_link(store, made.link.link_id, RUN)
    assert revoked.state() == "revoked"
    with pytest.raises(RevokedLinkError, match="a été révoqué le"):
        resolve(store, made.token)
    with pytest.raises(ConflictError, match="déjà révoqué"):
        revoke_link(store, made.link.link_id)
    assert [(link.link_id, link.state()) for link in list_links(store, RUN)] == [
        (old.link.link_id, "expired"),
        (made.link.link_id, "revoked"),
    ]  # newest first


@pytest.mark.parametrize("token", ["", "x" * 43 + "/", "a" * 42, "a" * 43, "../runs/netted"])
def test_an_unknown_token_opens_nothing(site, token):
    store, _ = site
    create_link(store, RUN, "ada")
    with pytest.raises(NotFoundError, match="n'existe pas") as caught:
        resolve(store, token)
    assert not isinstance(caught.value, RevokedLinkError)


def test_what_an_admin_cannot_make_or_revoke(site):
    store, _ = site
    for days in (0, 91, -1):
        with pytest.raises(InputError, match="de 1 à 90 jours"):
            create_link(store, RUN, "ada", days=days)
    with pytest.raises(InputError, match="au plus 200 caractères"):
        create_link(store, RUN, "ada", note="x" * 201)
    with pytest.raises(NotFoundError, match="analyse inconnue « nope »"):
        create_link(store, "nope", "ada")
    made = create_link(store, RUN, "ada", days=90)
    with pytest.raises(NotFoundError, match="aucun lien de partage n° 999"):
        revoke_link(store, 999)
    with pytest.raises(NotFoundError):  # the run a form names must be the link's
        revoke_link(store, made.link.link_id, "another-run")
    assert resolve(store, made.token) == RUN


# The web: made on the run page, read without an account


def test_admin_shares_the_report_and_a_stranger_reads_and_downloads_it(site):
    store, app = site
    admin, csrf = signed_in(app, "ada")
    run_page = admin.get(f"/runs/{RUN}").text
    assert 'id="share-form"' in run_page and "Aucun lien de partage pour cette analyse." in run_page
    assert '<option value="7" selected>7 jours</option>' in run_page and ">1 jour</option>" in run_page
    created = admin.post(f"/runs/{RUN}/partages", data={"csrf_token": csrf, "days": "30", "note": "comité"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    assert "Copiez ce lien maintenant : il ne sera plus affiché." in created.text and "(note : comité)" in created.text
    assert "il expire le" in html.unescape(created.text)
    path = shared_path(created.text)
    token = path.removeprefix("/partage/")
    assert re.fullmatch(r"/partage/[\w-]{43}", path) and resolve(store, token) == RUN
    assert not english(visible(created.text)), english(visible(created.text))

    listed = admin.get(f"/runs/{RUN}").text  # the list, never the token again
    assert token not in listed
    row = listed[listed.index('<tr data-link="') :]
    assert 'data-state="active"' in row and "ada" in row and "comité" in row and ">actif<" in row and "Révoquer" in row

    stranger = TestClient(app)
    page = stranger.get(path)
    assert page.status_code == 200
    assert {k: page.headers[k] for k in PRIVATE} == PRIVATE and "set-cookie" not in page.headers
    headings = re.findall(r"<h[23]>([^<]+)</h[23]>", html.unescape(page.text))
    assert headings[:3] == ["1. Coût (50 %)", "1.1. Prix trop élevés (38 %)", "1.2. Tarifs peu clairs (25 %)"]
    assert "« les prix sont beaucoup trop élevés »" in html.unescape(page.text)
    assert "<form" not in page.text and "<header" not in page.text
    hrefs = set(re.findall(r'href="([^"]+)"', page.text))
    files = ("html", *downloads())  # csv, xlsx, json, parquet… as the exporter registry offers them
    assert hrefs - {"/static/style.css"} == {f"{path}/telecharger/{fmt}" for fmt in files}
    assert not english(visible(page.text)), english(visible(page.text))

    report = stranger.get(f"{path}/telecharger/html")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "Prix trop élevés" in html.unescape(report.text) and report.headers["referrer-policy"] == "no-referrer"
    themes = pd.read_csv(io.BytesIO(stranger.get(f"{path}/telecharger/csv").content))
    assert {"Prix trop élevés", "Accueil du personnel"} <= set(themes["label"])
    workbook = pd.read_excel(io.BytesIO(stranger.get(f"{path}/telecharger/xlsx").content), sheet_name=None)
    assert any("Prix trop élevés" in sheet.astype(str).to_numpy().ravel() for sheet in workbook.values())
    unknown = stranger.get(f"{path}/telecharger/pdf")
    assert unknown.status_code == 404 and "aucun export « pdf »" in html.unescape(unknown.text)
    assert "<h1>Fichier introuvable</h1>" in unknown.text and unknown.headers["cache-control"] == "no-store"


def test_the_token_opens_the_report_and_nothing_else(site):
    store, app = site
    token = create_link(store, RUN, "ada").token
    stranger = TestClient(app)
    assert stranger.get(f"/partage/{token}").status_code == 200
    for path in (
        f"/runs/{RUN}",
        f"/runs/{RUN}/report",
        f"/runs/{RUN}/themes/prix",
        f"/runs/{RUN}/queue",
        f"/runs/{RUN}/download/csv",
        "/",
    ):
        answer = stranger.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    for path in (f"/api/runs/{RUN}/themes", "/api/runs", f"/api/runs/{RUN}/queue"):
        assert stranger.get(path).status_code == 401, path
    as_bearer = stranger.get(f"/api/runs/{RUN}/themes", headers={"Authorization": f"Bearer {token}"})
    as_cookie = TestClient(app, cookies={"verbatims_session": token}).get("/api/runs")
    assert as_bearer.status_code == 401 and as_cookie.status_code == 401
    for path in (f"/partage/{token}/themes/prix", f"/partage/{token}/runs/{RUN}", f"/partage/{token}/telecharger"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.post(f"/partage/{token}").status_code == 405


def test_a_revoked_link_is_refused_in_french(site):
    store, app = site
    token = create_link(store, RUN, "ada").token
    admin, csrf = signed_in(app, "ada")
    link_id = list_links(store, RUN)[0].link_id
    revoked = admin.post(f"/runs/{RUN}/partages/{link_id}/revoquer", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    listed = admin.get(revoked.headers["location"]).text
    assert f"Lien de partage n° {link_id} révoqué." in html.unescape(listed)
    row = listed[listed.index('<tr data-link="') :]
    assert 'data-state="revoked"' in row and ">révoqué<" in row and "Révoquer</button>" not in row
    stranger = TestClient(app)
    for path in (f"/partage/{token}", f"/partage/{token}/telecharger/html", f"/partage/{token}/telecharger/csv"):
        refused = stranger.get(path)
        assert refused.status_code == 410, path
        assert "a été révoqué le" in html.unescape(refused.text) and "Coût" not in refused.text, path
        assert refused.headers["cache-control"] == "no-store" and "attachment" not in str(refused.headers)
        assert not english(visible(refused.text))
    again = admin.post(f"/runs/{RUN}/partages/{link_id}/revoquer", data={"csrf_token": csrf})
    assert again.status_code == 409 and "déjà révoqué" in html.unescape(again.text)


def test_an_expired_or_unknown_link_is_refused_in_french(site):
    store, app = site
    expired = create_link(store, RUN, "ada", days=7, at=now() - timedelta(days=8)).token
    stranger = TestClient(app)
    page = stranger.get(f"/partage/{expired}")
    assert page.status_code == 410 and "Lien de partage indisponible" in page.text
    assert "a expiré le" in html.unescape(page.text) and "Prix trop élevés" not in page.text
    assert stranger.get(f"/partage/{expired}/telecharger/xlsx").status_code == 410
    unknown = stranger.get("/partage/" + "A" * 43)
    assert unknown.status_code == 404 and "n'existe pas" in html.unescape(unknown.text)
    assert not english(visible(page.text)) and not english(visible(unknown.text))
    admin, _ = signed_in(app, "ada")
    assert ">expiré<" in admin.get(f"/runs/{RUN}").text


@pytest.mark.parametrize("username", ["viewer", "rita"])
def test_only_admins_make_and_revoke_links(site, username):
    store, app = site
    link = create_link(store, RUN, "ada").link
    client, csrf = signed_in(app, username)
    page = client.get(f"/runs/{RUN}").text
    assert 'data-state="active"' in page  # everyone sees the run's links
    assert 'id="share-form"' not in page and "Révoquer" not in page and "/partages" not in page
    made = client.post(f"/runs/{RUN}/partages", data={"csrf_token": csrf, "days": "7"})
    assert made.status_code == 403 and "il faut le rôle admin" in made.text
    revoke = client.post(f"/runs/{RUN}/partages/{link.link_id}/revoquer", data={"csrf_token": csrf})
    assert revoke.status_code == 403
    assert [(x.link_id, x.state()) for x in list_links(store, RUN)] == [(link.link_id, "active")]


def test_making_a_link_needs_the_forms_csrf_token_and_a_valid_life(site):
    store, app = site
    admin, csrf = signed_in(app, "ada")
    forged = admin.post(f"/runs/{RUN}/partages", data={"csrf_token": "forged", "days": "7"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    too_long = admin.post(f"/runs/{RUN}/partages", data={"csrf_token": csrf, "days": "365"})
    assert too_long.status_code == 400 and "de 1 à 90 jours" in too_long.text
    assert admin.post("/runs/nope/partages", data={"csrf_token": csrf}).status_code == 404
    assert list_links(store, RUN) == []


def test_the_share_commands_make_list_and_revoke_links_in_french(site, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from pipeline import settings

    store, web_app = site
    if not store.url.startswith("sqlite"):
        pytest.skip("the commands are the same on both databases: tried on SQLite")
    monkeypatch.setattr(settings, "_current", None)  # --db configures the settings: undone after
    monkeypatch.setenv("VERBATIMS_WEB_URL", "https://verbatims.example/")
    cli = CliRunner()

    def share(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, ["share", *args, "--db", store.url])
        assert result.exit_code == code, result.output
        return result.output

    assert share("list", RUN).strip() == f"aucun lien de partage pour l'analyse {RUN}"
    made = share("create", RUN, "--days", "30", "--note", "comité")
    url = re.search(r"https://verbatims\.example/partage/([\w-]{43})\n", made)
    assert url and "Lien de partage n° 1 créé ; il expire le" in made and "il ne sera plus affiché" in made
    assert TestClient(web_app).get(f"/partage/{url.group(1)}").status_code == 200
    listed = share("list", "latest")
    assert listed.startswith("n° 1  actif  créé le ") and "; note : comité" in listed and url.group(1) not in listed
    assert share("revoke", "1").strip() == "Lien de partage n° 1 révoqué."
    assert "n° 1  révoqué" in share("list", RUN)
    assert "erreur : le lien de partage n° 1 est déjà révoqué" in share("revoke", "1", code=2)
    assert "erreur : un lien de partage dure de 1 à 90 jours" in share("create", RUN, "--days", "91", code=2)
    assert not english(share("list", RUN) + made)
