"""A run's title (issue 17 item 9): the question when one was given, else the answers file as its user named it,
without the extension; an uploaded wave keeps its user's file name, never the upload's storage name."""

import asyncio
import html
import io
import re
import threading
from pathlib import Path

import pytest
from fastapi import UploadFile
from fastapi.testclient import TestClient
from test_web import PASSWORD, sign_in

from pipeline.errors import InputError
from pipeline.manifest import InputInfo, Manifest, count, run_title
from pipeline.records import Assignment, CleanResult, ClusterResult, Dataset, IdeaUnit, Response, Theme
from review.runs import RunRecord, record_run
from review.store import Store
from review.users import add_user
from web import jobs, uploads
from web.app import create_app


@pytest.mark.parametrize(
    ("question", "file_name", "title"),
    [
        ("Que pensez-vous du magasin ?", "vague2.csv", "Que pensez-vous du magasin ?"),
        ("", "vague2.csv", "vague2"),
        (None, "Baromètre 2025 – vague 2.xlsx", "Baromètre 2025 – vague 2"),
        ("", "réponses", "réponses"),
    ],
)
def test_a_run_is_titled_by_its_question_else_its_own_file_name(question, file_name, title):
    assert run_title(question, file_name) == title
    manifest = Manifest(
        run_id="r",
        question=question or "",
        input=InputInfo(file=file_name, sha256="x", segment_columns=[]),
        parameters={},
        counts=count(0, [], [], 0),
    )
    assert manifest.title == title  # report.md's heading: "# Thèmes : vague2"


def _record(store: Store, run_id: str, file_name: str, question: str) -> None:
    units = [IdeaUnit("R1#0", "R1", "des prix trop élevés", "prix"), IdeaUnit("R2#0", "R2", "un bon accueil", "accueil")]
    manifest = Manifest(
        run_id=run_id,
        question=question,
        input=InputInfo(file=file_name, sha256="x", segment_columns=[]),
        parameters={},
        counts=count(2, units, [], 2),
    )
    themes = [Theme("prix", "Prix", ["prix"]), Theme("accueil", "Accueil", ["accueil"])]
    clustered = ClusterResult(themes, [Assignment("R1#0", "prix", 0.9), Assignment("R2#0", "accueil", 0.9)], {})
    dataset = Dataset([Response("R1", "", {}), Response("R2", "", {})], "t", "id", [], [], "x")
    record_run(store, RunRecord(manifest, dataset, CleanResult(units, []), clustered, "use-multilingual", Path(".")))


def test_pages_and_api_show_the_title_never_the_storage_name(tmp_path):
    store = Store(str(tmp_path / "titles.sqlite"))
    _record(store, "wave-2", "vague2.csv", "")
    _record(store, "asked", "vague3.csv", "Que pensez-vous du magasin ?")
    add_user(store, "vera", PASSWORD, "viewer")
    client = TestClient(create_app(store, secret="titles"))
    sign_in(client, "vera")

    runs = html.unescape(client.get("/").text)
    titles = dict(re.findall(r'<a href="/runs/([^"]+)" class="run-title">([^<]+)</a>', runs))
    assert titles == {"wave-2": "vague2", "asked": "Que pensez-vous du magasin ?"}
    assert {r["run_id"]: r["title"] for r in client.get("/api/runs").json()} == titles
    for path in ("/runs/wave-2", "/runs/wave-2/report"):
        assert "<h1>vague2</h1>" in client.get(path).text, path
    assert "<title>vague2</title>" in client.get("/runs/wave-2/download/html").text
    assert "← vague2</a>" in client.get("/runs/wave-2/themes/prix").text


def test_an_uploaded_wave_keeps_its_users_file_name(tmp_path, monkeypatch):
    """The page's upload is stored in a folder of its own under its user's name: the classified run's file (and
    so its title) is "vague2.csv", as for a file dropped in the watched inbox, which is analysed where it lies."""
    import flows.classify

    received: list[tuple[Path, str | None, bytes]] = []
    done = threading.Event()

    def classify_wave(path, db=None, question=None):  # what the job hands the flow, without running it
        received.append((Path(path), question, Path(path).read_bytes()))  # read now: a failed job deletes it
        done.set()
        raise InputError("arrêt du test")

    monkeypatch.setattr(uploads, "UPLOADS", tmp_path / "uploads")
    monkeypatch.setattr(flows.classify, "classify_wave", classify_wave)
    queue = jobs.Jobs(Store(str(tmp_path / "jobs.sqlite")))
    content = b"id;reponse\n1;Plus de moyens\n"
    for question in ("", "Et maintenant ?"):
        done.clear()
        path = asyncio.run(uploads.receive_wave(UploadFile(io.BytesIO(content), filename="vague2.csv")))
        queue.start_classify(path, "ana", question or None)
        assert done.wait(30)
    (first, no_question, kept), (second, asked, _) = received
    assert first.name == second.name == "vague2.csv" and first != second  # the same name twice: two folders
    assert kept == content and first.parent.parent == tmp_path / "uploads"
    assert (no_question, asked) == (None, "Et maintenant ?")
