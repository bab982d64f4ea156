"""Issue 18: the cases of the adversarial pass that already held, kept as tests so that they keep holding.

Where each case of the issue is tested (files in ``tests/security/`` unless a path says otherwise):

Held before the issue (its first paragraph):
- roles: here (every route walked: anonymous, viewer and reviewer refused what their role does not allow); and
  tests/test_web.py ::test_viewer_reads_runs_themes_and_units_but_cannot_correct, ::test_admin_only_actions.
- CSRF: here (every state-changing POST walked with a missing or forged token; nothing changes); and
  tests/test_web.py ::test_login_form_needs_its_csrf_token; test_sessions.py (the token rotates at sign-in).
- XSS: here (every HTML page, error pages and the shared report, with TestClient); in Chromium:
  tests/test_web_e2e.py, tests/test_phone_layout.py (every page); tests/test_web.py ::test_verbatims_cannot_run_in_the_page.
- formula injection: here (every cell of the CSV and XLSX downloads: answers, labels, segments); and
  tests/test_export.py ::test_formula_cells_are_neutralised; tests/test_web.py ::test_exports_neutralise_formulas.
- SQL injection: here (run, theme and unit ids, search text, segment, share token, job id; tables still there).
- path traversal: here (download format, run ids, static files, share downloads).
- kill -9 and resume: tests/test_orchestration.py ::test_a_run_killed_after_embedding_resumes_without_embedding_again.
- concurrent corrections with ``seen``: tests/test_review.py ::test_a_correction_on_a_stale_view_is_refused_not_overwritten,
  ::test_a_net_another_reviewer_changed_is_a_stale_view; tests/test_web.py
  ::test_reviewer_corrects_through_the_api_with_csrf_and_sees_shares_change; under load (20 sessions, 60 s):
  bench/concurrent_reviews.py, figures in bench/RESULTS.md (section ``concurrent_reviews``).

The 20 numbered cases that did not hold:
1-5. sessions, sign-out, password and role changes, throttling, weak passwords, secret, headers: test_sessions.py.
6. Markdown injection in report.md and the Prefect artifact: test_injection.py.
7. masking gaps (105 hand-written strings): test_masking.py ::test_every_kind_of_personal_data_is_masked.
8. set-aside answers masked: test_masking.py ::test_set_aside_answers_are_masked_too.
9. erasure of a respondent, a run, a user: test_erasure.py; test_sessions.py (``users remove``).
10. copies left behind: test_erasure.py (export folders, uploads, Prefect results); test_uploads.py (refused uploads).
11. the store's password kept by Prefect: test_store_secret.py.
12. duplicate or colliding ids: test_input_files.py
    ::test_two_answers_under_one_id_are_refused_naming_it_unless_numbered_on_request,
    ::test_rows_without_an_id_never_take_an_id_the_file_already_has; no half-written --out: test_atomic_out.py.
13. UTF-16 export, empty runs: test_input_files.py ::test_utf16_and_utf32_are_read_by_their_mark_or_their_nul_bytes;
    tests/test_flow_cli.py ::test_a_utf16_export_is_analysed_like_any_other,
    ::test_a_file_of_non_answers_only_is_a_clear_error.
14. mixed UTF-8 and cp1252 rows: test_input_files.py
    ::test_a_file_mixing_utf8_and_windows_1252_rows_is_read_row_by_row_with_a_note.
15. huge answers, quadratic masks: test_input_files.py ::test_an_answer_over_the_limit_is_cut_with_a_note;
    test_masking.py ::test_a_million_character_word_is_masked_in_linear_time.
16. NUL bytes: test_input_files.py ::test_nul_and_control_characters_are_stripped_from_every_cell;
    test_masking.py ::test_control_characters_and_nul_are_stripped.
17. uploads checked before they are kept: test_uploads.py.
18. read-only or locked store: test_store_faults.py.
19. the temporary Prefect server outliving ``kill -9``: test_prefect_server_dies.py.
20. the watched folder following symbolic links: test_inbox_links.py.
"""

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from test_web import PASSWORD, sign_in

from pipeline.manifest import InputInfo, Manifest, count
from pipeline.records import Assignment, CleanResult, ClusterResult, Dataset, Excluded, IdeaUnit, Response, Theme
from review.corrections import history
from review.runs import RunRecord, record_run
from review.shares import create_link
from review.store import Store
from review.users import add_user, list_users
from web.app import create_app

RUN = "hostile"
SCRIPT, IMAGE = '<script>alert("x")</script>', "<img src=x onerror=alert(1)>"
FORMULAS = ['=HYPERLINK("http://x")', "+33 6 ou =1+1", "-2+3", "@SUM(A1:A9)"]
ANSWERS = [SCRIPT, IMAGE, '"><svg onload=alert(3)>', "[clic](javascript:alert(4))", *FORMULAS]
LABEL = "<img src=x onerror=alert(2)>"
SQL = ["' OR 1=1 --", '"; DROP TABLE runs; --', "x' UNION SELECT password_hash FROM users --"]
RAW = ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:')  # none may reach a page unescaped

# Every route of the app and who may call it; a route added without a line here fails the walk below
WHO = {
    "GET /login": "anyone",
    "POST /login": "anyone",
    "POST /logout": "anyone",
    "GET /partage/{token}": "anyone",  # a share link is its own key (tests/test_shares.py)
    "GET /partage/{token}/telecharger/{fmt}": "anyone",
    "GET /": "viewer",
    "GET /runs/{run_id}": "viewer",
    "GET /runs/{run_id}/themes/{theme_id}": "viewer",
    "GET /runs/{run_id}/report": "viewer",
    "GET /runs/{run_id}/download/{fmt}": "viewer",
    "GET /runs/{run_id}/agreement": "viewer",
    "GET /jobs/{job_id}": "viewer",
    "GET /api/runs": "viewer",
    "GET /api/runs/{run_id}": "viewer",
    "GET /api/runs/{run_id}/themes": "viewer",
    "GET /api/runs/{run_id}/themes/{theme_id}/units": "viewer",
    "GET /api/runs/{run_id}/units/{unit_id}/similar": "viewer",
    "GET /api/models": "viewer",
    "GET /api/jobs/{job_id}": "viewer",
    "GET /runs/{run_id}/queue": "reviewer",
    "GET /runs/{run_id}/coding": "reviewer",
    "GET /api/runs/{run_id}/queue": "reviewer",
    "POST /runs/{run_id}/corrections": "reviewer",
    "POST /runs/{run_id}/coding": "reviewer",
    "POST /runs/{run_id}/agreement/settle": "reviewer",
    "POST /runs/{run_id}/bulk": "reviewer",
    "POST /api/runs/{run_id}/corrections": "reviewer",
    "POST /users": "admin",
    "POST /users/{username}/disable": "admin",
    "POST /users/{username}/enable": "admin",
    "POST /users/{username}/password": "admin",
    "POST /users/{username}/end-sessions": "admin",
    "POST /users/{username}/remove": "admin",
    "POST /retrain": "admin",
    "POST /waves": "admin",
    "POST /models/{version}/promote": "admin",
    "POST /models/rollback": "admin",
    "POST /runs/{run_id}/supprimer": "admin",
    "POST /repondants/effacer": "admin",
    "POST /runs/{run_id}/partages": "admin",
    "POST /runs/{run_id}/partages/{link_id}/revoquer": "admin",
    "POST /api/retrain": "admin",
    "POST /api/models/{version}/promote": "admin",
    "POST /api/models/rollback": "admin",
}
RANK = {"anyone": 0, "viewer": 1, "reviewer": 2, "admin": 3}


def routes(app) -> dict[str, APIRoute]:
    """Every endpoint, through the routers the app includes (FastAPI ≥ 0.137 keeps them as included routers)."""

    def walk(items):
        for item in items:
            if isinstance(item, APIRoute):
                yield item
            elif hasattr(item, "original_router"):
                yield from walk(item.original_router.routes)

    return {f"{method} {route.path}": route for route in walk(app.routes) for method in route.methods}


@pytest.fixture
def site(tmp_path):
    """A run whose answers, labels, keywords, segment values and set-aside answer are attacks, and one user of
    each role: (store, client)."""
    store = Store(str(tmp_path / "held.sqlite"))
    units = [IdeaUnit(f"H{i}", f"R{i}", text, "mot") for i, text in enumerate(ANSWERS)]
    themes = [Theme("t-hostile", LABEL, ["<b>", "=cmd|' /C calc'!A0"]), Theme("t-calme", "=Calme", ["calme"])]
    assignments = [Assignment(u.unit_id, themes[i % 2].theme_id, 0.9) for i, u in enumerate(units)]
    responses = [Response(u.respondent_id, u.text, {"<seg>": IMAGE if i % 2 else "=seg"}) for i, u in enumerate(units)]
    excluded = [Excluded("R99", f"{SCRIPT} =1+1", "non-answer")]
    dataset = Dataset([*responses, Response("R99", excluded[0].text, {"<seg>": "x"})], "t", "id", ["<seg>"], [], "x")
    manifest = Manifest(
        run_id=RUN,
        question=SCRIPT,
        input=InputInfo(file="<x>.csv", sha256="x", segment_columns=["<seg>"]),
        parameters={},
        counts=count(len(dataset.responses), units, excluded, len(themes)),
    )
    clustered = ClusterResult(themes, assignments, {})
    record_run(store, RunRecord(manifest, dataset, CleanResult(units, excluded), clustered, "use-multilingual", Path(".")))
    for role in ("viewer", "reviewer", "admin"):
        add_user(store, role, PASSWORD, role)
    return store, TestClient(create_app(store, secret="h" * 32))


def filled(path: str) -> str:
    """A route's path with real ids of the hostile run in it (other names get a plain word)."""
    ids = {"run_id": RUN, "theme_id": "t-hostile", "unit_id": "H0", "fmt": "csv", "username": "viewer", "link_id": "1"}
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x1"), path)


def post(client: TestClient, key: str, route: APIRoute, token: str | None):
    """The POST a form or a script would send, every field the route reads filled, with ``token`` as its CSRF."""
    path = filled(route.path)
    if path.startswith("/api/"):
        headers = {"X-CSRF-Token": token.encode()} if token is not None else {}  # bytes: a header may carry é as UTF-8
        return client.post(path, json={"action": "confirm", "unit": "H0", "seen": 0}, headers=headers)
    form = {p.alias: "1" for p in route.dependant.body_params if p.alias != "wave"}
    form.update(action="confirm", unit="H0", seen="0", role="viewer", username="nouveau", confirm=RUN)
    form["password"] = "Zq8!longue-phrase-unique"
    if token is None:
        form.pop("csrf_token", None)
    else:
        form["csrf_token"] = token
    files = {"wave": ("vague.csv", b"id,texte\n1,une reponse\n", "text/csv")} if key == "POST /waves" else None
    return client.post(path, data=form, files=files, follow_redirects=False)


def signed_in(client: TestClient, role: str) -> str:
    return sign_in(client, role)[1]


def test_every_route_is_listed_with_the_role_it_needs(site):
    _, client = site
    assert set(routes(client.app)) == set(WHO)


def test_anonymous_is_refused_on_every_route_but_sign_in_and_share_links(site):
    _, client = site
    for key, route in routes(client.app).items():
        if WHO[key] == "anyone":
            continue
        method, path = key.split(" ", 1)
        answer = client.get(filled(path), follow_redirects=False) if method == "GET" else post(client, key, route, "x")
        if path.startswith("/api/"):
            assert answer.status_code == 401 and answer.json() == {"detail": "connectez-vous d'abord"}, key
        else:
            assert answer.status_code == 303, key
            assert answer.headers["location"] == f"/login?next={filled(path)}", key


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_each_role_is_refused_what_it_may_not_do_and_nothing_changes(site, role):
    store, client = site
    token = signed_in(client, role)
    refused = [key for key in WHO if RANK[WHO[key]] > RANK[role]]
    assert refused  # a viewer is refused the reviewers' and admins' routes, a reviewer the admins'
    for key in refused:
        method, path = key.split(" ", 1)
        route = routes(client.app)[key]
        answer = client.get(filled(path)) if method == "GET" else post(client, key, route, token)
        assert answer.status_code == 403, (key, answer.status_code, answer.text[:200])
        assert f"il faut le rôle {WHO[key]}" in answer.text, key
    assert history(store, RUN) == []
    assert sorted(u.username for u in list_users(store)) == ["admin", "reviewer", "viewer"]


@pytest.mark.parametrize("token", [None, "jeton-forgé"])
def test_every_changing_route_refuses_a_missing_or_forged_csrf_token_and_changes_nothing(site, token):
    store, client = site
    signed_in(client, "admin")  # the admin may call every route: only the token can refuse it
    changing = {key: route for key, route in routes(client.app).items() if key.startswith("POST ") and key != "POST /login"}
    assert len(changing) == sum(1 for key in WHO if key.startswith("POST ")) - 1
    for key, route in changing.items():
        answer = post(client, key, route, token)
        if token is None and not key.startswith("POST /api/"):
            assert answer.status_code == 422, key  # a form without its token field is malformed before anything runs
        else:
            assert answer.status_code == 403 and "CSRF" in answer.text, (key, answer.status_code, answer.text[:200])
    assert history(store, RUN) == []
    assert sorted(u.username for u in list_users(store)) == ["admin", "reviewer", "viewer"]
    assert client.get("/api/runs").status_code == 200  # still signed in: sign-out needed its token too


def tables(store: Store) -> list[str]:
    with sqlite3.connect(store.engine.url.database) as db:
        return sorted(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


@pytest.mark.parametrize("attack", SQL)
def test_sql_in_ids_search_and_segments_finds_nothing_and_drops_nothing(site, attack):
    store, client = site
    before = tables(store)
    token = signed_in(client, "admin")
    quoted = attack.replace("/", "%2F")
    for path in (
        f"/api/runs/{quoted}",
        f"/api/runs/{quoted}/themes",
        f"/api/runs/{RUN}/themes/{quoted}/units",
        f"/api/runs/{RUN}/units/{quoted}/similar",
        f"/runs/{quoted}",
        f"/runs/{RUN}/themes/{quoted}",
        f"/runs/{quoted}/download/csv",
        f"/partage/{quoted}",
        f"/api/jobs/{quoted}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/api/runs/{RUN}/themes/t-hostile/units", params={"q": attack}).json() == []
    column = attack.partition("=")[0]  # "column=value": the column ends at the attack's first "=", if any
    for segment, named in ((f"{attack}=x", column), (f"<seg>={attack}", attack)):  # unknown column, unknown value
        answer = client.get(f"/api/runs/{RUN}", params={"segment": segment})
        assert answer.status_code == 400 and named in answer.json()["detail"], segment
    bad = {"action": "confirm", "unit": attack, "seen": 0}
    assert client.post(f"/api/runs/{RUN}/corrections", json=bad, headers={"X-CSRF-Token": token}).status_code == 404
    assert client.post(f"/models/{quoted}/promote", data={"csrf_token": token}).status_code == 404
    assert tables(store) == before and "runs" in before
    assert [r["run_id"] for r in client.get("/api/runs").json()] == [RUN]
    assert history(store, RUN) == []


@pytest.mark.parametrize(
    "path",
    [
        f"/runs/{RUN}/download/..%2F..%2F..%2Fetc%2Fpasswd",
        f"/runs/{RUN}/download/%2e%2e%2f%2e%2e%2fapp.py",
        f"/runs/{RUN}/download/....%2F%2F....%2F%2Fetc%2Fpasswd",
        f"/runs/{RUN}/download/%2Fetc%2Fpasswd",
        "/runs/..%2F..%2Fetc/download/csv",
        "/runs/%2e%2e/report",
        "/api/runs/..%2F..%2Fetc%2Fpasswd/themes",
        "/static/%2e%2e/app.py",
        "/static/..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/partage/x/telecharger/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_paths_out_of_the_site_give_404_never_the_file(site, path):
    _, client = site
    signed_in(client, "admin")
    answer = client.get(path)
    assert answer.status_code == 404, (path, answer.status_code)
    assert "root:" not in answer.text and "def create_app" not in answer.text and "[project]" not in answer.text
    assert client.get("/static/style.css").status_code == 200  # the folder is served: only what is outside is not


def test_dot_segments_reach_the_server_as_sent(site):
    """The client does not tidy ``%2e%2e`` away: the paths above reach the routes with their dots."""
    _, client = site
    signed_in(client, "viewer")
    answer = client.get("/api/runs/%2e%2e")
    assert answer.status_code == 404 and "« .. »" in answer.json()["detail"]


def cells(client: TestClient, fmt: str) -> list[str]:
    answer = client.get(f"/runs/{RUN}/download/{fmt}")
    assert answer.status_code == 200
    if fmt == "csv":
        frames = {"csv": pd.read_csv(io.BytesIO(answer.content), dtype=str, keep_default_na=False)}
    else:
        frames = pd.read_excel(io.BytesIO(answer.content), sheet_name=None, dtype=str, keep_default_na=False)
    texts = [str(v) for frame in frames.values() for v in [*frame.columns, *frame.to_numpy().ravel()]]
    assert texts
    return texts


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_answers_labels_and_segments_start_with_a_quote_in_every_cell(site, fmt):
    _, client = site
    signed_in(client, "viewer")
    texts = cells(client, fmt)
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    quoted = " | ".join(texts)
    for formula in (*FORMULAS, "=Calme"):  # answers quoted in the themes table, and a theme label
        if formula in quoted:
            assert f"'{formula}" in quoted, formula
    assert "'=Calme" in quoted  # the label is in every table: the check above is not empty


def pages(client: TestClient, store: Store) -> list[str]:
    """Every page a signed-in admin can open on the hostile run, error pages and the shared report."""
    link = create_link(store, RUN, "admin").token
    return [
        "/",
        f"/runs/{RUN}",
        f"/runs/{RUN}?segment=%3Cseg%3E%3D%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        f"/runs/{RUN}/themes/t-hostile",
        f"/runs/{RUN}/themes/t-hostile?q=%3Cscript%3E&merge=t-calme",
        f"/runs/{RUN}/themes/t-calme",
        f"/runs/{RUN}/queue",
        f"/runs/{RUN}/coding",
        f"/runs/{RUN}/agreement",
        f"/runs/{RUN}/report",
        f"/runs/{RUN}/download/html",
        "/runs/%3Cscript%3Ealert(1)%3C%2Fscript%3E",  # the error page names the unknown run
        f"/runs/{RUN}/themes/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        f"/?message={SCRIPT}",
        f"/partage/{link}",
    ]


def test_hostile_text_is_escaped_on_every_page(site):
    store, client = site
    signed_in(client, "admin")
    shown = []
    for path in pages(client, store):
        answer = client.get(path)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        page = answer.text
        assert not [raw for raw in RAW if raw in page], path
        shown.append(page)
    everything = "\n".join(shown)
    # the attacks were on the pages, escaped: the checks above looked at them
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in everything
    assert "&lt;img src=x onerror=alert(2)&gt;" in everything
    assert "&lt;svg onload=alert(3)&gt;" in everything


def test_the_downloaded_slides_and_json_carry_the_attacks_as_text(site):
    _, client = site
    signed_in(client, "viewer")
    slides = zipfile.ZipFile(io.BytesIO(client.get(f"/runs/{RUN}/download/pptx").content))
    xml = "".join(slides.read(n).decode() for n in slides.namelist() if n.startswith("ppt/slides/slide"))
    assert "<img src=x" not in xml and "&lt;img src=x onerror=alert(2)&gt;" in xml
    themes = client.get(f"/runs/{RUN}/download/json").json()
    assert LABEL in str(themes)  # JSON keeps the text as it is: escaping is the reader's page's job
