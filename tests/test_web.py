"""The web page and its JSON API: roles, CSRF, bad requests, untrusted text, exports."""

import html
import io
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from pipeline.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from pipeline.manifest import InputInfo, Manifest, count
from pipeline.records import Assignment, CleanResult, ClusterResult, Dataset, IdeaUnit, Response, Theme
from review.corrections import ReviewError, StaleViewError, UnknownItemError, load_state
from review.runs import RunRecord, record_run
from review.store import Store
from review.users import add_user
from web import session as web_session
from web.app import create_app
from web.errors import status_of
from web.views import WHY_MIXED, WHY_OTHER

PASSWORD = "correct horse battery"
ATTACKS = ['<script>alert("x")</script>', "<img src=x onerror=alert(1)>", "javascript:alert(1)", '=HYPERLINK("http://x")']


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "web.sqlite"))


@pytest.fixture
def site(recorded_run):
    store, run = recorded_run
    for role in ("viewer", "reviewer", "admin"):
        add_user(store, role, PASSWORD, role)
    return store, run, TestClient(create_app(store, secret="test-secret"))


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
        follow_redirects=False,
    )
    # signing in opens a new session with a new CSRF token: the one forms carry from now on
    return response, re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_nothing_is_readable_without_signing_in(site):
    _, run, client = site
    assert client.get("/api/runs").status_code == 401
    assert client.get("/api/runs").json() == {"detail": "connectez-vous d'abord"}
    page = client.get(f"/runs/{run}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=/runs/{run}"


def test_wrong_password_and_open_redirects_are_refused(site):
    _, _, client = site
    response, _ = sign_in(client, "viewer", "wrong password")
    assert response.status_code == 200 and "Utilisateur inconnu ou mot de passe incorrect." in response.text
    assert client.get("/api/runs").status_code == 401
    response, _ = sign_in(client, "viewer", next_path="//evil.example/")
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_login_form_needs_its_csrf_token(site):
    _, _, client = site
    client.get("/login")
    response = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "CSRF" in response.text


def test_viewer_reads_runs_themes_and_units_but_cannot_correct(site):
    store, run, client = site
    sign_in(client, "viewer")
    runs = client.get("/api/runs").json()
    assert [r["run_id"] for r in runs] == [run]
    themes = client.get(f"/api/runs/{run}/themes").json()
    assert [t["rank"] for t in themes] == list(range(1, len(themes) + 1))
    assert {"sponsorship", "moyens", "embarquer"} <= {t["theme_id"] for t in themes}
    first = themes[0]
    assert 0 < first["share"] < 1 and first["quotes"] and first["keywords"]
    units = client.get(f"/api/runs/{run}/themes/{first['theme_id']}/units").json()
    assert len(units) == first["n_units"]
    assert client.get(f"/api/runs/{run}/queue").status_code == 403
    denied = client.post(f"/api/runs/{run}/corrections", json={"action": "confirm", "unit": units[0]["unit_id"]})
    assert denied.status_code == 403 and "il faut le rôle reviewer" in denied.json()["detail"]
    assert client.get("/api/models").json() == {"promoted": None, "models": []}


def test_reviewer_corrects_through_the_api_with_csrf_and_sees_shares_change(site):
    store, run, client = site
    _, token = sign_in(client, "reviewer")
    queue = client.get(f"/api/runs/{run}/queue", params={"limit": 5}).json()
    item = queue["items"][0]
    body = {"action": "move", "unit": item["unit_id"], "label": "Thème créé sur la page", "seen": queue["version"]}
    assert client.post(f"/api/runs/{run}/corrections", json=body).status_code == 403  # no CSRF header
    saved = client.post(f"/api/runs/{run}/corrections", json=body, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    themes = {t["label"]: t for t in client.get(f"/api/runs/{run}/themes").json()}
    assert themes["Thème créé sur la page"]["n_units"] == 1 and themes["Thème créé sur la page"]["share"] > 0
    stale = client.post(f"/api/runs/{run}/corrections", json={**body, "label": "Autre"}, headers={"X-CSRF-Token": token})
    assert stale.status_code == 409 and "n'est plus à jour" in stale.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("get", "/api/runs/nope/themes", None, 404, "analyse inconnue « nope »"),
        ("get", "/api/runs/run-sample/themes/nope/units", None, 404, "aucun thème « nope »"),
        ("get", "/api/runs/run-sample/queue?limit=0", None, 400, "limit doit être compris entre 1 et 1000"),
        ("get", "/api/runs/run-sample/queue?limit=abc", None, 422, "requête mal formée : query.limit"),
        ("post", "/api/runs/run-sample/corrections", {"action": "explode", "seen": 0}, 400, "inconnue « explode »"),
        ("post", "/api/runs/run-sample/corrections", {"action": "move", "unit": "R001", "seen": 0}, 400, "demande « to »"),
        (
            "post",
            "/api/runs/run-sample/corrections",
            {"action": "rename", "theme": "nope", "label": "x", "seen": 0},
            404,  # UnknownItemError is a NotFoundError
            "thème inconnu « nope »",
        ),
        ("post", "/api/runs/run-sample/corrections", {"action": "rename", "seen": 0}, 400, "« theme » est obligatoire"),
        ("post", "/api/runs/run-sample/corrections", {"seen": "yesterday"}, 422, "requête mal formée"),
        ("get", "/api/jobs/nope", None, 404, "aucune tâche « nope »"),
    ],
)
def test_bad_requests_get_a_clear_4xx(site, method, path, body, status, message):
    _, _, client = site
    _, token = sign_in(client, "reviewer")
    response = getattr(client, method)(path, **({"json": body, "headers": {"X-CSRF-Token": token}} if body else {}))
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_admin_only_actions(site):
    _, _, client = site
    _, token = sign_in(client, "reviewer")
    assert client.post("/api/retrain", headers={"X-CSRF-Token": token}).status_code == 403
    page = client.get("/")
    assert "Réentraîner" not in page.text


def test_openapi_schema_lists_the_api(site):
    _, _, client = site
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/runs",
        "/api/runs/{run_id}/themes",
        "/api/runs/{run_id}/themes/{theme_id}/units",
        "/api/runs/{run_id}/queue",
        "/api/runs/{run_id}/corrections",
        "/api/models",
        "/api/retrain",
    ):
        assert path in paths


def test_sessions_expire(site, monkeypatch):
    _, _, client = site
    sign_in(client, "viewer")
    assert client.get("/api/runs").status_code == 200
    monkeypatch.setattr(web_session, "SESSION_SECONDS", 0)
    time.sleep(1.1)
    assert client.get("/api/runs").status_code == 401


@pytest.fixture
def hostile_run(store):
    """A run whose answers and theme label are attacks."""
    units = [IdeaUnit(f"H{i}", f"H{i}", text, "mot") for i, text in enumerate(ATTACKS)]
    theme = Theme("t-hostile", "<img src=x onerror=alert(2)>", ["<b>"])
    result = ClusterResult([theme], [Assignment(u.unit_id, theme.theme_id, 0.9) for u in units], {})
    dataset = Dataset([Response(u.respondent_id, u.text, {"<seg>": "<v>"}) for u in units], "t", "id", ["<seg>"], [], "x")
    manifest = Manifest(
        run_id="hostile",
        question="<q>",
        input=InputInfo(file="<x>.csv", sha256="x", segment_columns=["<seg>"]),
        parameters={},
        counts=count(len(units), units, [], 1),
    )
    record_run(store, RunRecord(manifest, dataset, CleanResult(units, []), result, "use-multilingual", Path(".")))
    add_user(store, "viewer", PASSWORD, "viewer")
    return TestClient(create_app(store, secret="s"))


def test_verbatims_cannot_run_in_the_page(hostile_run):
    client = hostile_run
    sign_in(client, "viewer")
    for path in ("/runs/hostile", "/runs/hostile/themes/t-hostile", "/runs/hostile/report", "/"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript:' not in html, path
    theme_page = client.get("/runs/hostile/themes/t-hostile").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in theme_page
    assert "&lt;img src=x onerror=alert(2)&gt;" in theme_page
    assert "script-src 'self'" in client.get("/runs/hostile").headers["content-security-policy"]


def test_exports_neutralise_formulas(hostile_run):
    client = hostile_run
    sign_in(client, "viewer")
    csv = client.get("/runs/hostile/download/csv")
    assert csv.status_code == 200
    themes = pd.read_csv(io.BytesIO(csv.content))
    quotes = " ".join(str(v) for v in themes.filter(like="quote").iloc[0])
    assert "'=HYPERLINK" in quotes and " =HYPERLINK" not in " " + quotes.replace("'=HYPERLINK", "")
    xlsx = client.get("/runs/hostile/download/xlsx")
    cells = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    texts = [str(v) for sheet in cells.values() for v in sheet.to_numpy().ravel()]
    assert not [t for t in texts if t.startswith(("=", "+", "@"))]
    html = client.get("/runs/hostile/download/html")
    assert "attachment" in html.headers["content-disposition"] and "<script>alert" not in html.text
    assert client.get("/runs/hostile/download/pdf").status_code == 404


def test_admin_retrains_from_the_page_and_sees_the_outcome(site, gold):
    from tests.test_retrain import ENOUGH_REVIEWS, review_like_the_gold

    store, run, client = site
    review_like_the_gold(store, run, gold, ENOUGH_REVIEWS)
    _, token = sign_in(client, "admin")
    detail = client.get(f"/api/runs/{run}").json()
    assert detail["version"] > 0 and detail["reviewed_units"] >= 40
    started = client.post("/retrain", data={"csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    job_id = started.headers["location"].rsplit("/", 1)[1]
    deadline = time.time() + 300
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] == "running" and time.time() < deadline:
        time.sleep(1)
    assert job["state"] == "done", job["message"]
    assert "macro-F1 en validation croisée" in job["message"] and "premier modèle, mis en service" in job["message"]
    assert client.get("/api/models").json()["promoted"] == "v1"
    assert "macro-F1" in client.get(f"/jobs/{job_id}").text


def test_admin_manages_users_and_promotes_models(site, gold):
    from review.retrain import retrain
    from tests.test_retrain import ENOUGH_REVIEWS, review_like_the_gold

    store, run, client = site
    _, token = sign_in(client, "reviewer")
    assert (
        client.post("/users", data={"csrf_token": token, "username": "x", "password": PASSWORD, "role": "admin"}).status_code
        == 403
    )
    client.post("/logout", data={"csrf_token": token})
    _, token = sign_in(client, "admin")
    saved = client.post("/users", data={"csrf_token": token, "username": "nina", "password": PASSWORD, "role": "viewer"})
    assert saved.status_code == 200 and "utilisateur nina (viewer) enregistré" in saved.text
    short = client.post("/users", data={"csrf_token": token, "username": "z", "password": "short", "role": "viewer"})
    assert short.status_code == 400 and "un mot de passe fait au moins 12 caractères" in short.text
    review_like_the_gold(store, run, gold, ENOUGH_REVIEWS)  # enough for each model to be promoted
    retrain(store)
    retrain(store)
    headers = {"X-CSRF-Token": token}
    assert client.post("/api/models/rollback", headers=headers).json() == {"promoted": "v1"}
    assert client.post("/api/models/v2/promote", headers=headers).json() == {"promoted": "v2"}
    assert client.post("/api/models/v7/promote", headers=headers).status_code == 404  # unknown model: NotFoundError
    page = client.get("/").text
    assert "v2 (en service)" in page and "nina (viewer)" in page
    job_id = client.post("/api/retrain", headers=headers).json()["job"]
    deadline = time.time() + 300
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] == "running" and time.time() < deadline:
        time.sleep(1)
    assert job["state"] == "done" and "modèle v3" in job["message"] and "face à v2" in job["message"], job
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "nina")
    assert client.get("/api/runs").status_code == 200


def test_undo_from_the_run_page(site):
    store, run, client = site
    _, token = sign_in(client, "reviewer")
    queue = client.get(f"/api/runs/{run}/queue").json()
    unit = queue["items"][0]["unit_id"]
    off = {"action": "off_topic", "unit": unit, "seen": queue["version"]}
    client.post(f"/api/runs/{run}/corrections", json=off, headers={"X-CSRF-Token": token})
    undo = {"csrf_token": token, "action": "undo", "back": f"/runs/{run}", "seen": 1}  # the run page shows version 1
    undone = client.post(f"/runs/{run}/corrections", data=undo)
    assert undone.status_code == 200 and "Correction #2 enregistrée : annulation" in undone.text
    assert unit not in load_state(store, run).off_topic


def test_every_correction_from_the_page_forms(site):
    store, run, client = site
    _, token = sign_in(client, "reviewer")
    state = load_state(store, run)
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    a, b, c = sizes[0][1], sizes[1][1], sizes[2][1]
    u1, u2, u3, u4, u5 = state.members(a)[:5]

    def post(**fields):  # from a page showing the current version (each form's answer reloads the page)
        fields = {"seen": load_state(store, run).version, **fields}
        response = client.post(f"/runs/{run}/corrections", data={"csrf_token": token, "back": f"/runs/{run}", **fields})
        assert response.status_code == 200 and "enregistrée" in response.text, response.text[-400:]

    post(action="rename", theme=a, label="Renommé depuis la page", seen=0)
    post(action="move", unit=u1, to=b)
    post(action="add", unit=u2, to=c)
    post(action="off_topic", unit=u3)
    post(action="split", theme=a, units=[u4, u5], label="Scindé depuis la page")
    post(action="merge", theme=c, target=b)
    after = load_state(store, run)
    assert after.themes[a].label == "Renommé depuis la page"
    assert after.labels[u1] == [b] and after.labels[u2] == [a, b]  # c was merged into b
    assert u3 in after.off_topic and c not in after.themes
    split = next(t for t, s in after.themes.items() if s.label == "Scindé depuis la page")
    assert after.labels[u4] == [split] and after.labels[u5] == [split]
    page = client.get(f"/runs/{run}/themes/{split}")
    assert page.status_code == 200 and "Scindé depuis la page" in page.text
    refused = client.post(
        f"/runs/{run}/corrections", data={"csrf_token": token, "action": "rename", "theme": a, "label": "Encore", "seen": 0}
    )
    assert f"Votre vue (version 0) n&#39;est plus à jour : reviewer a scindé le thème {a}" in refused.text


def test_admin_applies_the_model_to_a_new_wave_from_the_page(site, gold, codebook, tmp_path):
    from conftest import SAMPLE

    from review.retrain import retrain
    from tests.test_retrain import ENOUGH_REVIEWS, review_like_the_gold

    store, run, client = site
    review_like_the_gold(store, run, gold, ENOUGH_REVIEWS)
    retrain(store, codebook=codebook)
    _, token = sign_in(client, "admin")
    wave = pd.read_csv(SAMPLE, sep=";", dtype=str).head(120)
    started = client.post(
        "/waves",
        data={"csrf_token": token},
        follow_redirects=False,
        files={"wave": ("vague2.csv", wave.to_csv(sep=";", index=False).encode(), "text/csv")},
    )
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[1]
    deadline = time.time() + 300
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] == "running" and time.time() < deadline:
        time.sleep(1)
    assert job["state"] == "done", job["message"]
    themes = client.get(f"/api/runs/{job['run_id']}/themes").json()
    assert any(t["change_pts"] is not None for t in themes)
    report = client.get(f"/runs/{job['run_id']}/report").text
    assert "Évolution" in report and " pt" in report


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnknownItemError("unknown theme 'x'"), 404),  # a ReviewError and a NotFoundError: the more specific wins
        (StaleViewError("your view is out of date"), 409),
        (ReviewError("unknown run 'x'"), 400),  # the message does not matter, only the type
        (NotFoundError("bad"), 404),
        (ConflictError("bad"), 409),
        (InputError("bad"), 400),
        (ForbiddenError("bad"), 403),
    ],
)
def test_errors_are_answered_by_type(error, status):
    assert status_of(error) == status


NET_ANSWERS = {  # respondent: (region, [(theme, answer), ...])
    "R1": ("Nord", [("prix", "les prix sont beaucoup trop élevés"), ("tarifs", "les tarifs sont illisibles")]),
    "R2": ("Nord", [("prix", "c'est trop cher pour ce que c'est")]),
    "R3": ("Nord", [("tarifs", "on ne comprend rien aux tarifs affichés")]),
    "R4": ("Sud", [("accueil", "le personnel est très aimable")]),
    "R5": ("Sud", [("accueil", "un accueil chaleureux à chaque visite")]),
    "R6": ("Sud", [("bazar", "la musique et le parking")]),
    "R7": ("Sud", [("prix", "des prix exorbitants")]),
    "R8": ("Sud", [("autres", "je ne sais pas")]),
}


@pytest.fixture
def netted_run(store):
    """A run whose codes "prix" and "tarifs" roll up into the codebook's net "Coût", a mixed code and "Autres"."""
    units, assignments = [], []
    for rid, (_, answers) in NET_ANSWERS.items():
        for n, (theme_id, text) in enumerate(answers):
            units.append(IdeaUnit(f"{rid}#{n}", rid, text, text))
            assignments.append(Assignment(f"{rid}#{n}", theme_id, 0.9))
    themes = [
        Theme("prix", "Prix trop élevés", ["prix", "cher"], coherence=2.4),
        Theme("tarifs", "Tarifs peu clairs", ["tarif"], coherence=1.75),
        Theme("accueil", "Accueil du personnel", ["accueil"], coherence=3.1),
        Theme("bazar", "Musique, parking", ["musique"], coherence=0.6, mixed=True),
        Theme("autres", "Autres", ["savoir"]),
    ]
    responses = [Response(rid, "", {"region": region}) for rid, (region, _) in NET_ANSWERS.items()]
    dataset = Dataset(responses, "t", "id", ["region"], [], "x")
    manifest = Manifest(
        run_id="netted",
        question="Que pensez-vous du magasin ?",
        input=InputInfo(file="magasin.csv", sha256="x", segment_columns=["region"]),
        parameters={"codebook_nets": {"prix": "Coût", "tarifs": "Coût"}},
        counts=count(len(responses), units, [], len(themes)),
    )
    result = ClusterResult(themes, assignments, {})
    record_run(store, RunRecord(manifest, dataset, CleanResult(units, []), result, "use-multilingual", Path(".")))
    add_user(store, "viewer", PASSWORD, "viewer")
    client = TestClient(create_app(store, secret="s"))
    sign_in(client, "viewer")
    return client


def rows_in_order(page: str) -> list[tuple[str, str]]:
    """The run page's table rows as (number, net label or theme id), in order."""
    rows = re.findall(r'<tr class="(net|code[^"]*)" data-(?:net|theme)="([^"]+)"[^>]*>\s*<td[^>]*>([^<]+)</td>', page)
    return [(number, "net" if kind == "net" else key) for kind, key, number in rows]


def test_the_run_page_ranks_nets_then_their_codes(netted_run):
    page = netted_run.get("/runs/netted").text
    assert rows_in_order(page) == [
        ("1", "net"),
        ("1.1", "prix"),
        ("1.2", "tarifs"),
        ("2", "accueil"),  # a net of one code shows as that code
        ("3", "bazar"),  # mixed: below every coherent code
        ("4", "autres"),
    ]
    net_row = page[page.index('<tr class="net"') : page.index('data-theme="prix"')]
    assert "Coût" in net_row and "50,0 %" in net_row and "(4)" in net_row  # R1 raises both codes: counted once
    assert "2 sous-thèmes" in net_row
    text = html.unescape(page)
    assert "cohérence 2,4" in text and "cohérence 1,8" in text and "cohérence 0,6" in text
    assert WHY_OTHER in text and WHY_MIXED in text
    assert text.count(WHY_MIXED) == 1 and text.count(WHY_OTHER) == 1


def test_the_segment_filter_counts_a_nets_respondents_once_within_the_segment(netted_run):
    page = netted_run.get("/runs/netted", params={"segment": "region=Nord"}).text
    net_row = page[page.index('<tr class="net"') : page.index('data-theme="prix"')]
    assert "100,0 %" in net_row and "(3)" in net_row  # R1, R2, R3: the three of Nord
    prix = page[page.index('data-theme="prix"') : page.index('data-theme="tarifs"')]
    assert "66,7 %" in prix and "(2)" in prix
    assert "3 répondants du segment « region : Nord »" in html.unescape(page)
    assert netted_run.get("/runs/netted", params={"segment": "nope=x"}).status_code == 400


def test_the_report_numbers_nets_and_codes_as_the_markdown_report(netted_run):
    for path in ("/runs/netted/report", "/runs/netted/download/html"):
        text = html.unescape(netted_run.get(path).text)
        headings = re.findall(r"<h[23]>([^<]+)</h[23]>", text)
        assert headings == [
            "1. Coût (50 %)",
            "1.1. Prix trop élevés (38 %)",
            "1.2. Tarifs peu clairs (25 %)",
            "2. Accueil du personnel (25 %)",
            "3. Musique, parking (12 %)",
            "4. Autres (12 %)",
        ], path
        assert "4 répondants, 2 sous-thèmes." in text and "cohérence 2,4" in text
        assert WHY_MIXED in text and WHY_OTHER in text


def test_the_json_names_each_codes_net_and_lists_the_nets(netted_run):
    themes = {t["theme_id"]: t for t in netted_run.get("/api/runs/netted/themes").json()}
    assert themes["prix"]["net_label"] == themes["tarifs"]["net_label"] == "Coût"
    assert themes["prix"]["net_id"] == themes["tarifs"]["net_id"] != themes["accueil"]["net_id"]
    assert themes["prix"]["coherence"] == 2.4 and themes["autres"]["coherence"] is None
    assert themes["bazar"]["mixed"] is True and themes["prix"]["mixed"] is False
    nets = netted_run.get("/api/runs/netted").json()["nets"]
    assert [n["label"] for n in nets] == ["Coût", "Accueil du personnel", "Musique, parking", "Autres"]
    assert nets[0] == {
        "rank": 1,
        "net_id": themes["prix"]["net_id"],
        "label": "Coût",
        "share": 0.5,
        "n_respondents": 4,
        "code_ids": ["prix", "tarifs"],
    }
