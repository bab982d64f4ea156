"""Issue 18, case 17: a new wave's upload is checked before it is kept: empty, header-only, garbage, a fake
workbook, a program and an oversized file each get one French 4xx message at once, and leave nothing behind."""

import os
import re
import threading

import pytest
from fastapi.testclient import TestClient
from test_web import PASSWORD, sign_in

from pipeline import settings
from pipeline.errors import InputError
from review.store import Store
from review.users import add_user
from web import uploads
from web.app import create_app


@pytest.fixture
def admin(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "UPLOADS", tmp_path / "uploads")
    store = Store(str(tmp_path / "uploads.sqlite"))
    add_user(store, "ada", PASSWORD, "admin")
    client = TestClient(create_app(store, secret="u" * 32))
    sign_in(client, "ada")
    return client


def upload(client: TestClient, name: str, content: bytes):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    return client.post("/waves", data={"csrf_token": token}, files={"wave": (name, content)}, follow_redirects=False)


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("vide.csv", b"", 400, "le fichier est vide"),
        ("entete.csv", b"id;reponse\n", 400, "aucune ligne"),
        ("bruit.csv", os.urandom(200_000), 400, "ne contient pas du texte"),
        ("faux.xlsx", b"ceci n'est pas un classeur", 400, "impossible de lire faux.xlsx"),
        ("doublons.csv", b"id;reponse\n7;Plus de moyens\n7;Un sponsor\n", 400, "1 identifiant en double"),
        ("programme.exe", b"MZ\x90\x00" + os.urandom(1000), 400, "type de fichier non pris en charge « .exe »"),
    ],
)
def test_a_bad_upload_is_refused_at_once_in_french_and_nothing_is_kept(admin, name, content, status, message):
    response = upload(admin, name, content)
    assert response.status_code == status and message in response.text
    assert not list(uploads.UPLOADS.rglob("*.*"))


def test_an_oversized_upload_is_refused_with_413_before_it_is_kept(admin):
    with settings.overridden(max_upload_mb=1):
        response = upload(admin, "gros.csv", b"id;reponse\n" + b"1;une r\xc3\xa9ponse\n" * 120_000)  # 2.1 MB
    assert response.status_code == 413 and "fichier trop volumineux : 1 Mo au plus" in response.text
    assert not list(uploads.UPLOADS.rglob("*.*"))


def test_a_good_upload_is_kept_under_its_own_name_and_becomes_a_job(admin, monkeypatch):
    import flows.classify

    release = threading.Event()

    def classify_wave(path, **_):  # no flow here: the job holds the file until the test has looked at it
        release.wait(10)
        raise InputError("arrêt du test")

    monkeypatch.setattr(flows.classify, "classify_wave", classify_wave)
    response = upload(admin, "vague2.csv", b"id;reponse\n1;Plus de moyens pour la formation\n")
    try:
        assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
        (kept,) = uploads.UPLOADS.rglob("vague2.csv")
        assert kept.read_text(encoding="utf-8").startswith("id;reponse")
    finally:
        release.set()
