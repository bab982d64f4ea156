"""The product speaks French: no English word in what each source of user-facing text says.

Each source is checked on real output: the sample's report and workbook, the ``verbatims analyze`` summary,
and the pages a reviewer and an admin see (sign-in error, a correction's message, a job, a bad request)."""

import html
import io
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import typer
from fastapi.testclient import TestClient
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from pipeline.analysis import Analysis
from pipeline.errors import NotFoundError, UnavailableError
from pipeline.exporters import write_outputs
from pipeline.messages import FRENCH, plural, say
from pipeline.records import OTHER_ID
from review.actions import ACTIONS
from review.corrections import ReviewError, correct, load_state
from review.inbox import arrival, claim, duplicate_reason, finish
from review.store import Store
from review.users import add_user
from web.app import create_app

# English words that earlier versions showed users; whole ASCII words, so "thèmes" or "non-réponse" do not match
FORBIDDEN = [
    "saved", "running", "failed", "done", "error", "not French", "non-answer", "no words", "empty answer",
    "duplicate row", "answers", "analysed", "set aside", "themes", "respondents", "rank", "share", "keywords",
    "undo", "malformed", "request", "results", "review:", "more in", "unknown user", "wrong password",
    "promoted", "rolled back", "from_codebook", "n_respondents", "above", "below",
    "units", "nets", "reviewed", "before", "after", "folder", "default", "usage:", "commands", "missing", "try",
]  # fmt: skip
_ENGLISH = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, FORBIDDEN)) + r")(?![\w-])", re.IGNORECASE)
# File names, commands and `quoted code` are not prose: "themes.csv", "verbatims review queue" and a YAML key such
# as `themes:` stay as they are typed
_NOT_PROSE = re.compile(r"[\w./-]+\.(csv|json|xlsx|md|parquet)\b|verbatims [\w ]+|/\S*|`[^`]*`")
PASSWORD = "correct horse battery"


def english(text: str) -> list[str]:
    return _ENGLISH.findall(_NOT_PROSE.sub(" ", text))


def visible(page: str) -> str:
    """A page's text as read: no scripts, no tags (attribute values such as data-state are machine tokens)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL))


def test_the_check_finds_english_and_spares_french():
    assert english("#7 rename saved; 3 answers set aside, job failed") == ["saved", "answers", "set aside", "failed"]
    assert english('Non-answer ("RAS"), not French (detected: en)') == ["Non-answer", "not French"]
    assert english("12 thèmes, 1 non-réponse ; voir themes.csv ; verbatims review queue r1 ; clé `themes:`") == []


def test_every_catalogue_message_is_french():
    for message_id, template in FRENCH.items():
        assert not english(re.sub(r"\{\w+\}", " ", template)), message_id  # {names} are filled in


def test_counts_agree_with_their_number():
    assert [plural(n, "respondent") for n in (0, 1, 2)] == ["0 répondant", "1 répondant", "2 répondants"]
    assert plural(1, "idea") == "1 idée" and plural(3, "theme") == "3 thèmes"


@pytest.fixture(scope="module")
def sample_outputs(sample_dataset, codebook, tmp_path_factory):
    """The sample analysed in this process and written as a run writes it: (folder, summary)."""
    from flows.tasks import AnalysisSummary

    analysis = Analysis(codebook=codebook)
    analysed = analysis.run(sample_dataset)
    manifest = analysis.manifest("r1", Path("sample.csv"), analysed, None, {})
    out = tmp_path_factory.mktemp("sample")
    write_outputs(out, analysed.bundle(manifest))
    return out, AnalysisSummary("r1", out, analysed.themes, manifest)


def test_the_sample_report_is_french(sample_outputs):
    out, _ = sample_outputs
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Réponses écartées" in report and "| non-réponse |" in report
    assert not re.search(r"\b1 (répondants|idées)\b", report)
    assert not english(report)


def test_the_sample_workbook_is_french(sample_outputs):
    out, _ = sample_outputs
    book = pd.read_excel(out / "themes.xlsx", sheet_name=None)
    assert list(book["Thèmes"].columns[:3]) == ["Rang", "Rang du thème", "Id du thème"]
    for name, sheet in book.items():  # headers and cells, but not the verbatims: set-aside answers may be English
        ours = sheet.drop(columns=[c for c in sheet.columns if c == "Texte" or c.startswith("Citation")])
        cells = " | ".join(map(str, [*ours.columns, *ours.to_numpy().ravel()]))
        assert not english(cells), (name, english(cells)[:5])
    assert {"au-dessus", "au-dessous"} & set(book["Segments"]["Sens"])  # the sample has significant segments
    reasons = " | ".join(book["Écartées"]["Raison"])
    assert "pas en français (langue détectée : en)" in reasons and not english(reasons)
    assert list(pd.read_csv(out / "themes.csv", nrows=0).columns[:2]) == ["rank", "net_rank"]  # CSV: machine names


def test_the_sample_slides_are_french(sample_outputs):
    out, _ = sample_outputs
    deck = Presentation(out / "report.pptx")
    shapes = [shape for slide in deck.slides for shape in slide.shapes]
    texts = [shape.text_frame.text for shape in shapes if shape.has_text_frame]
    alts = [s._element.nvPicPr.cNvPr.get("descr") for s in shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert "Classement des thèmes" in texts and len(alts) == 2  # the ranked chart and the segment chart
    # quotes « … » are the respondents' words, not the product's
    ours = " | ".join(re.sub(r"«[^»]*»", "« »", text) for text in [*texts, *alts])
    assert "Base : 278 répondants analysés sur 304 réponses reçues" in ours and not english(ours), english(ours)[:5]


def test_the_analyze_summary_is_french(sample_outputs, capsys):
    from cli.analysis_commands import print_summary

    _, summary = sample_outputs
    print_summary(summary)
    printed = capsys.readouterr().out
    assert "304 réponses : 278 analysées, 26 écartées (voir excluded.csv)" in printed
    assert "Résultats : " in printed and "… et " in printed
    assert not english(printed)


@pytest.fixture
def client(recorded_run):
    store, run = recorded_run
    for role in ("reviewer", "admin"):
        add_user(store, role, PASSWORD, role)
    return run, TestClient(create_app(store, secret="test-secret"))


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    form = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    response = client.post("/login", data=form, follow_redirects=False)
    # signing in opens a new session with a new CSRF token: the one forms carry from now on
    return response, re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_sign_in_error_and_bad_request_are_french(client):
    run, web = client
    refused, _ = sign_in(web, "reviewer", "wrong")
    assert "mot de passe incorrect" in refused.text and not english(visible(refused.text))
    sign_in(web, "reviewer")
    malformed = web.get(f"/api/runs/{run}/queue?limit=abc").json()["detail"]
    assert malformed.startswith("requête mal formée") and not english(malformed.replace("query.limit", ""))


def test_a_correction_message_is_french(client):
    run, web = client
    _, token = sign_in(web, "reviewer")
    theme = next(iter(load_state(web.app.state.web.store, run).themes))
    form = {"csrf_token": token, "action": "rename", "seen": 0, "theme": theme, "label": "Moyens humains"}
    page = web.post(f"/runs/{run}/corrections", data=form)
    assert say("correction.saved", seq=1, action="renommage") in page.text
    again = web.post(f"/runs/{run}/corrections", data={**form, "label": "Autre libellé"})  # a stale view: refused
    assert "Non enregistré : Votre vue (version 0) n'est plus à jour" in html.unescape(again.text)
    for shown in (page.text, again.text):
        message = html.unescape(re.search(r'class="message"[^>]*>(.*?)<', shown, re.DOTALL).group(1))
        assert not english(message), message


def test_a_job_page_is_french(client):
    _, web = client
    _, token = sign_in(web, "admin")
    started = web.post("/retrain", data={"csrf_token": token}, follow_redirects=False)
    job_id = started.headers["location"].rsplit("/", 1)[1]
    deadline = time.time() + 60
    while web.get(f"/api/jobs/{job_id}").json()["state"] == "running" and time.time() < deadline:
        time.sleep(0.2)
    page = visible(web.get(f"/jobs/{job_id}").text)
    assert re.search(r"État : (terminé|échec)", page) and not english(page)


def test_the_xlsx_of_any_run_keeps_its_french_headers(client):
    run, web = client
    sign_in(web, "reviewer")
    book = pd.read_excel(io.BytesIO(web.get(f"/runs/{run}/download/xlsx").content), sheet_name=None)
    assert not english(" | ".join(str(c) for sheet in book.values() for c in sheet.columns))


def test_the_report_page_and_its_charts_are_french(client):
    run, web = client
    sign_in(web, "reviewer")
    page = web.get(f"/runs/{run}/report").text
    charts = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)"', page)
    assert [alt.split(" : ")[0] for alt in charts] == ["Graphique", "Graphique"]  # ranked, segments; no wave
    text = re.sub(r"«[^»]*»", "« »", html.unescape(visible(page)))  # quotes are the respondents' words
    assert not english(" | ".join([text, *map(html.unescape, charts)]))


def refusal(store, run_id: str, action: str, **payload) -> str:
    """A refused correction's message as a reviewer reads it, names in « » left out: a field, theme or id is
    what was typed or what the reviewers called it."""
    with pytest.raises(ReviewError) as refused:
        correct(store, run_id, "alice", action, **payload)
    return re.sub(r"«[^»]*»", "« »", str(refused.value))


def test_every_action_refuses_in_french(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = [t for t in state.themes if t != OTHER_ID][:2]
    unit, members = state.members(a)[0], state.members(a)
    net_of_b = state.net_of(b)[0]
    refusals = [refusal(store, run, name, **({"units": [], "operation": "confirm"} if name == "bulk" else {}))
                for name in ACTIONS]  # fmt: skip
    refusals += [
        refusal(store, run, "explode"),
        refusal(store, run, "rename", theme=a, label=state.themes[a].label),
        refusal(store, run, "rename", theme="nope", label="x"),
        refusal(store, run, "rename", theme=a, label=" "),
        refusal(store, run, "rename", theme=a, label="x" * 201),
        refusal(store, run, "undo", event="yesterday"),
        refusal(store, run, "add", unit=unit, theme=a),
        refusal(store, run, "move", unit=unit),
        refusal(store, run, "move", unit=unit, to=a),
        refusal(store, run, "move", unit=unit, to=a, **{"from": b}),
        refusal(store, run, "move", unit="R999#9", to=a),
        refusal(store, run, "merge", target=a, sources=[a]),
        refusal(store, run, "split", theme=a, label="x", units=[]),
        refusal(store, run, "split", theme=a, label="x", units=members),
        refusal(store, run, "settle", unit=unit),
        refusal(store, run, "bulk", operation="move", units=[unit]),
        refusal(store, run, "bulk", operation="move", units=members * 2, to=a),
        refusal(store, run, "rename_net", net="nowhere", label="x"),
        refusal(store, run, "rename_net", net=net_of_b, label=state.net_of(b)[1]),
        refusal(store, run, "move_to_net", theme=OTHER_ID, net=net_of_b),
        refusal(store, run, "move_to_net", theme=b, net=net_of_b),
        refusal(store, run, "new_net", themes=[], label="x"),
        refusal(store, run, "undo", event=999),
    ]
    correct(store, run, "alice", "off_topic", unit=unit)
    first = correct(store, run, "alice", "merge", target=b, sources=[a])
    undo = correct(store, run, "alice", "undo", event=first.seq)
    refusals += [
        refusal(store, run, "off_topic", unit=unit),
        refusal(store, run, "add", unit=unit, theme=b),
        refusal(store, run, "undo", event=first.seq),
        refusal(store, run, "undo", event=undo.seq),
    ]
    correct(store, run, "alice", "merge", target=b, sources=[a])
    refusals.append(refusal(store, run, "rename", theme=a, label="x"))
    for message in refusals:  # the actions' names are listed as they are typed: "au choix : rename, …, undo"
        assert not english(message.split(" ; au choix : ")[0]), message


def test_signing_in_roles_and_the_csrf_check_are_french(client):
    _, web = client
    unsigned = web.get("/api/runs")
    assert unsigned.status_code == 401 and unsigned.json()["detail"] == "connectez-vous d'abord"
    sign_in(web, "reviewer")
    not_admin = web.post("/api/retrain", headers={"x-csrf-token": "x"})
    assert not_admin.status_code == 403 and "il faut le rôle admin" in not_admin.json()["detail"]
    sign_in(web, "admin")
    forged = web.post("/api/retrain", headers={"x-csrf-token": "forged"})
    assert forged.status_code == 403 and "contrôle CSRF" in forged.json()["detail"]
    for detail in (unsigned.json()["detail"], forged.json()["detail"], not_admin.json()["detail"]):
        assert not english(re.sub(r"rôle \w+", "rôle", detail)), detail  # role names are the typed ones


def test_store_errors_are_french(recorded_run, tmp_path):
    with pytest.raises(NotFoundError) as none_yet:  # a store with no run yet
        Store(f"sqlite:///{tmp_path / 'empty.db'}").latest_run_id()
    messages = [str(none_yet.value)]
    recorded, run = recorded_run
    with pytest.raises(NotFoundError) as unknown, recorded.session() as session:
        recorded.run(session, "nope")
    with pytest.raises(UnavailableError) as unreachable:  # no server there: unavailable, by the driver's code
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ReviewError) as anonymous:
        correct(recorded, run, " ", "confirm", unit="R001#1")
    messages += [str(unknown.value), str(unreachable.value).split(" (VERBATIMS_DB) : ")[0], str(anonymous.value)]
    assert "analyse inconnue « nope » ; dernières analyses : " in messages[-3]
    for message in messages:  # the driver's own words after "(VERBATIMS_DB) :" are not ours
        assert not english(message), message


def test_inbox_reasons_are_french(store, tmp_path):
    from review.inbox import MAX_ATTEMPTS

    def wave(name: str):
        (tmp_path / name).write_text("id,text\n1,oui\n", encoding="utf-8")
        return arrival(tmp_path / name)

    first, again = wave("wave.csv"), wave("wave-again.csv")
    assert claim(store, first) is None
    reasons = [duplicate_reason(claim(store, again))]  # still being analysed
    for _ in range(MAX_ATTEMPTS - 1):
        finish(store, first.sha256, "waiting", reason="disque plein")
        claim(store, first)
    reasons.append(finish(store, first.sha256, "waiting", reason="disque plein").reason)  # given up
    reasons.append(duplicate_reason(claim(store, again)))
    other = wave("other.csv")
    other.path.write_text("id,text\n2,non\n", encoding="utf-8")
    other = arrival(other.path)
    claim(store, other)
    finish(store, other.sha256, "processed", run_id="r1")
    reasons.append(duplicate_reason(claim(store, other)))
    assert reasons[-1] == "même contenu que other.csv, déjà analysé dans l'analyse r1"
    assert reasons[1] == f"disque plein (après {MAX_ATTEMPTS} tentatives)"
    for reason in reasons:
        assert not english(reason), reason


def test_the_command_line_error_prefix_is_french(capsys):
    from cli.common import fail

    with pytest.raises(typer.Exit):
        fail(say("store.no_run"))
    printed = capsys.readouterr().err
    assert printed.startswith("erreur : aucune analyse") and not english(printed)
