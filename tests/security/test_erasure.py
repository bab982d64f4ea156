"""Issue 18, cases 9 and 10: one respondent's answers erased from everything the product wrote, a run deleted
with its files, and downloads that leave no copy behind.

The runs are real: ``verbatims analyze`` in its own process over the real flow, so that the store, the content
caches, Prefect's persisted results and the exports are the ones an analyst's run leaves."""

import base64
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE
from fastapi.testclient import TestClient
from markupsafe import escape
from test_web import PASSWORD, sign_in

from pipeline import charts, settings
from pipeline.cache import BlobCache, content_key
from pipeline.errors import NotFoundError
from pipeline.ingest import file_sha256
from pipeline.placement import CACHE_NAMESPACE
from review.corrections import correct, load_state
from review.erasure import delete_run, erase_respondent, erase_user, runs_older_than, subject_hash
from review.store import (
    AssignmentRow,
    ErasureRow,
    EventRow,
    ExcludedRow,
    RespondentRow,
    Run,
    Store,
    ThemeRow,
    UnitRow,
)
from review.users import add_user, list_users
from web.app import create_app

SECRET = "Zorglub-7731"
ANSWER = f"{SECRET} veut un meilleur portail client pour suivre ses commandes et ses factures"


# Two other respondents on the same subject: the three make a small theme whose quotes hold every answer, so that
# the report quotes the distinctive one whatever the number of themes (among the 14 answers of a larger theme it
# was not quoted once themes grew finer).
NEIGHBOURS = {
    "RZ97": "Un portail client en ligne pour suivre les commandes et les factures",
    "RZ98": "Il faudrait un meilleur portail client pour suivre ses factures et ses commandes",
}


def _wave(rows: int, with_secret: bool) -> str:
    """The sample's first answers, and the distinctive respondent's answer with its neighbours' when asked, as
    CSV text."""
    frame = pd.read_csv(SAMPLE, sep=";").head(rows)
    if with_secret:
        answers = {**NEIGHBOURS, "RZ99": ANSWER}
        segments = {"maturite": "en progrès", "secteur": "Banque"}
        extra = [{"id_repondant": r, **segments, "reponse": a} for r, a in answers.items()]
        frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    return frame.to_csv(sep=";", index=False)


def _verbatims(work: Path, *args: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("verbatims")
    env = {
        **os.environ,
        "VERBATIMS_DB": str(work / "store.sqlite"),
        "VERBATIMS_CACHE": str(work / "outputs" / ".cache"),
        "PREFECT_HOME": str(work / "prefect"),
    }
    env.pop("PREFECT_LOCAL_STORAGE_PATH", None)  # the command's default: under its cache
    result = subprocess.run([str(command), *args], capture_output=True, text=True, timeout=900, env=env, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def analysed_waves(tmp_path_factory):
    """Two waves analysed into one store, both holding respondent RZ99; the first kept as the web page keeps an
    upload. A reviewer confirmed RZ99's idea and another one in the first run."""
    work = tmp_path_factory.mktemp("erasure")
    upload = work / "outputs" / "uploads" / "ab12cd34" / "vague1.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(_wave(60, True), encoding="utf-8")
    (work / "vague2.csv").write_text(_wave(40, True), encoding="utf-8")
    _verbatims(work, "analyze", str(upload), "--out", "outputs/run1")
    _verbatims(work, "analyze", "vague2.csv", "--out", "outputs/run2")
    store = Store(str(work / "store.sqlite"))
    with store.session() as session:
        runs = {r.input_file: r.run_id for r in session.query(Run)}
        first = session.query(UnitRow).filter_by(run_id=runs["vague1.csv"]).order_by(UnitRow.position).all()
    theirs = next(u.unit_id for u in first if u.respondent_id == "RZ99")
    other = next(u.unit_id for u in first if u.respondent_id != "RZ99")
    correct(store, runs["vague1.csv"], "ana", "confirm", unit=theirs)
    correct(store, runs["vague1.csv"], "ana", "confirm", unit=other)
    return work, store, runs, other


def _holds(path: Path, needle: bytes) -> bool:
    """Whether a file holds ``needle`` as written, inside a zip (XLSX, PPTX), a Parquet table, or a Prefect
    result's base64 pickle."""
    raw = path.read_bytes()
    if needle in raw:
        return True
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(needle in archive.read(name) for name in archive.namelist())
    if path.suffix == ".parquet":
        return needle.decode() in pd.read_parquet(path).to_csv()
    try:
        return needle in base64.b64decode(json.loads(raw)["result"])
    except (ValueError, KeyError, TypeError):
        return False


def _files_holding(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and _holds(p, needle.encode())]


def test_a_respondent_is_erased_from_store_caches_results_and_exports(analysed_waves):
    folder, store, runs, other = analysed_waves
    # Closing any descriptor of a SQLite file drops every POSIX lock this process holds on it: reading the store's
    # bytes while its pooled connections are open let the command's writes go past their snapshots (stale reads,
    # "database disk image is malformed"). The pool is closed before each read of the files.
    store.engine.dispose()
    everything = [folder / "outputs", folder / "store.sqlite", folder / "vague2.csv"]
    before = [p for place in everything for p in ([place] if place.is_file() else place.rglob("*")) if p.is_file()]
    assert [p for p in before if _holds(p, SECRET.encode())], "the runs should hold the answer before the erasure"
    assert _files_holding(folder / "outputs" / ".cache" / "prefect-results", SECRET)  # resumable stages hold it
    assert (folder / "outputs" / "uploads" / "ab12cd34").is_dir()
    assert _files_holding(folder / "prefect", SECRET)  # the report artifact quotes the answer
    with store.reading() as session:
        counts = {name: session.query(RespondentRow).filter_by(run_id=run_id).count() for name, run_id in runs.items()}

    result = _verbatims(folder, "erase", "respondent", "RZ99", "--yes")

    assert "répondant effacé de 2 analyses" in result.stdout
    store.engine.dispose()
    store_files = [p for p in folder.glob("store.sqlite*") if _holds(p, SECRET.encode())]
    assert store_files == []
    assert _files_holding(folder / "outputs", SECRET) == []  # caches, Prefect results, exports, uploads
    assert _files_holding(folder / "prefect", SECRET) == []  # the report artifacts in Prefect's database
    assert not (folder / "outputs" / "uploads" / "ab12cd34").exists()
    assert _holds(folder / "vague2.csv", SECRET.encode())  # the analyst's own file: theirs to edit
    with store.reading() as session:
        assert session.query(RespondentRow).filter_by(respondent_id="RZ99").count() == 0
        for name, run_id in runs.items():  # everyone else is still there
            assert session.query(RespondentRow).filter_by(run_id=run_id).count() == counts[name] - 1 > 30
        log = session.query(ErasureRow).one()
    assert (log.kind, log.by, log.subject_sha256) == ("respondent", log.by, subject_hash("respondent", "RZ99"))
    assert "RZ99" not in json.dumps(log.removed) and log.removed["respondents"] == 2 and log.removed["export_folders"] == 2
    state = load_state(store, runs["vague1.csv"])  # the history still replays, the other confirmation kept
    assert state.reviewed == {other} and state.version == 2
    exported = pd.read_csv(folder / "outputs" / "run1" / "assignments.csv")
    assert len(exported) > 40 and "RZ99" not in set(exported["id"].astype(str))
    with zipfile.ZipFile(folder / "outputs" / "run1" / "themes.xlsx") as archive:
        assert archive.namelist()  # written again, whole


def test_deleting_a_run_removes_its_rows_folder_and_upload(analysed_waves, tmp_path):
    folder, store, runs, _ = analysed_waves
    run_id = runs["vague2.csv"]
    with store.reading() as session:
        out_dir = Path(session.get(Run, run_id).out_dir)
    if not out_dir.is_absolute():
        out_dir = folder / out_dir
    assert out_dir.is_dir()
    result = _verbatims(folder, "runs", "delete", run_id, "--yes")
    assert f"analyse {run_id} supprimée" in result.stdout
    assert not out_dir.exists()
    with store.reading() as session:
        assert session.get(Run, run_id) is None
        assert session.query(UnitRow).filter_by(run_id=run_id).count() == 0
        kinds = [row.kind for row in session.query(ErasureRow).order_by(ErasureRow.erasure_id)]
        assert session.query(ErasureRow).filter_by(kind="run").one().subject_sha256 == subject_hash("run", run_id)
    assert kinds[-1] == "run"


def test_an_upload_still_kept_for_a_run_is_found_by_content_and_deleted(tmp_path, monkeypatch):
    """A run recorded from an upload the web page still keeps: its deletion takes the upload with it."""
    monkeypatch.chdir(tmp_path)
    store = Store(str(tmp_path / "s.sqlite"))
    upload = tmp_path / "outputs" / "uploads" / "0f0f0f0f" / "vague.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("id;reponse\n1;un avis\n", encoding="utf-8")
    same_name = tmp_path / "outputs" / "uploads" / "1e1e1e1e" / "vague.csv"  # another wave of that name
    same_name.parent.mkdir(parents=True)
    same_name.write_text("id;reponse\n1;un autre avis\n", encoding="utf-8")
    with store.session() as session:
        session.add(Run(run_id="r1", kind="analyze", input_file="vague.csv", input_sha256=file_sha256(upload), embedder="x"))
    erasure = delete_run(store, "r1", "admin")
    assert erasure.removed["uploads"] == 1 and erasure.removed["runs"] == 1
    assert not upload.parent.exists() and same_name.exists()


def test_downloads_leave_no_temporary_folder(analysed_waves, monkeypatch):
    """Every format, served: the temporary export folder is gone once the file is sent."""
    folder, store, runs, _ = analysed_waves
    monkeypatch.setattr(tempfile, "tempdir", str(folder / "tmp"))
    (folder / "tmp").mkdir(exist_ok=True)
    with settings.overridden(cache=folder / "outputs" / ".cache"):
        add_user(store, "lectrice", PASSWORD, "viewer")
        client = TestClient(create_app(store, secret="e" * 32))
        sign_in(client, "lectrice")
        for fmt in ("csv", "xlsx", "json", "parquet"):
            response = client.get(f"/runs/{runs['vague1.csv']}/download/{fmt}")
            assert response.status_code == 200 and response.content, fmt
            if fmt == "xlsx":
                assert zipfile.is_zipfile(io.BytesIO(response.content))
    assert list((folder / "tmp").glob("verbatims-export-*")) == []


def test_an_admin_erases_a_respondent_and_deletes_the_run_from_the_pages(analysed_waves, monkeypatch):
    """The runs page's form and the run page's button: admin only, with their CSRF token and the confirmation box."""
    folder, store, runs, _ = analysed_waves
    run_id = runs["vague1.csv"]
    with store.reading() as session:
        units = session.query(UnitRow).filter_by(run_id=run_id).order_by(UnitRow.position).all()
    add_user(store, "ada", PASSWORD, "admin")
    add_user(store, "rita", PASSWORD, "reviewer")
    monkeypatch.chdir(folder)  # where the command wrote the run: its folders are named from there
    with settings.overridden(cache=folder / "outputs" / ".cache"):
        admin = TestClient(create_app(store, secret="e" * 32))
        _, token = sign_in(admin, "ada")
        page = admin.get(f"/runs/{run_id}").text  # ranked: the server keeps a copy, quotes included
        quoted = next(u for u in units if f"« {escape(u.text)} »" in page)
        form = {"csrf_token": "", "respondent_id": quoted.respondent_id, "confirm": "oui"}
        reviewer = TestClient(create_app(store, secret="e" * 32))
        _, reviewer_token = sign_in(reviewer, "rita")
        assert "erase-respondent-form" not in reviewer.get("/").text
        refused = reviewer.post("/repondants/effacer", data={**form, "csrf_token": reviewer_token}, follow_redirects=False)
        assert refused.status_code == 403
        assert "erase-respondent-form" in admin.get("/").text and "delete-run-form" in admin.get(f"/runs/{run_id}").text
        unticked = admin.post("/repondants/effacer", data={**form, "csrf_token": token, "confirm": ""})
        assert unticked.status_code == 400 and "cochez la case de confirmation" in unticked.text
        forged = admin.post("/repondants/effacer", data={**form, "csrf_token": "forged"}, follow_redirects=False)
        assert forged.status_code == 403
        done = admin.post("/repondants/effacer", data={**form, "csrf_token": token}, follow_redirects=False)
        assert done.status_code == 303 and "r%C3%A9pondant%20effac%C3%A9%20de%201%20analyse" in done.headers["location"]
        page = admin.get(f"/runs/{run_id}").text  # ranked again without them
        assert f"« {escape(quoted.text)} »" not in page
        deleted = admin.post(
            f"/runs/{run_id}/supprimer", data={"csrf_token": token, "confirm": "oui"}, follow_redirects=False
        )
        assert deleted.status_code == 303
        assert admin.get(f"/runs/{run_id}").status_code == 404
    assert not (folder / "outputs" / "run1").exists()
    with store.reading() as session:
        assert [row.kind for row in session.query(ErasureRow).order_by(ErasureRow.erasure_id)][-2:] == ["respondent", "run"]


def _small_run(store: Store, run_id: str, created_at=None) -> None:
    """A run of four respondents written straight into the store: Z's answer is the only one naming zorglub."""
    texts = {"A": "accueil lent au guichet", "B": "accueil aimable", "C": "portail clair", "Z": ANSWER}
    with store.session() as session:
        when = {"created_at": created_at} if created_at else {}
        session.add(Run(run_id=run_id, kind="analyze", input_file="f.csv", input_sha256="0" * 64, embedder="x", **when))
        session.flush()
        for n, (who, text) in enumerate(texts.items()):
            session.add(RespondentRow(run_id=run_id, respondent_id=who, segments={}))
            session.add(
                UnitRow(run_id=run_id, unit_id=who, position=n, respondent_id=who, text=text, lemmas=text, text_key=who)
            )
        session.add(ExcludedRow(run_id=run_id, position=0, respondent_id="Z", text=f"{SECRET} encore", reason="trop court"))
        session.add(ThemeRow(run_id=run_id, theme_id="t1", label="Accueil", keywords=["accueil", "guichet"]))
        session.add(ThemeRow(run_id=run_id, theme_id="t2", label="Zorglub portail", keywords=["zorglub", "portail"]))
        session.flush()
        for who, theme in (("A", "t1"), ("B", "t1"), ("C", "t2"), ("Z", "t2")):
            session.add(AssignmentRow(run_id=run_id, unit_id=who, theme_id=theme, score=0.9))


def test_erasing_keeps_the_history_replayable_and_leaves_no_text(store, tmp_path, monkeypatch):
    """On SQLite and PostgreSQL: Z's rows, the events about Z alone (and the undo of one), Z's place in a split,
    the keyword and label only Z gave, Z's cache entries and Prefect results go; the others stay."""
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(results))
    for name, value in {"theirs": [ANSWER, "x"], "others": ["accueil aimable"]}.items():
        pickled = base64.b64encode(pickle.dumps(value)).decode()
        (results / name).write_text(json.dumps({"metadata": {}, "result": pickled}))
    with settings.overridden(cache=tmp_path / "cache"):
        cache = BlobCache(tmp_path / "cache" / "cache.sqlite", "embed:x")
        cache.put_many([(content_key(ANSWER), b"\0" * 8), (content_key("portail clair"), b"\1" * 8)])
        cleaned = BlobCache(tmp_path / "cache" / "cache.sqlite", "clean:x")
        cleaned.put_many(
            [
                (content_key("raw Z"), json.dumps({"units": [[ANSWER, "zorglub"]]}).encode()),
                (content_key("raw C"), json.dumps({"units": [["portail clair", "portail"]]}).encode()),
            ]
        )
        derived = [BlobCache(tmp_path / "cache" / "cache.sqlite", n) for n in (charts.CACHE_NAMESPACE, CACHE_NAMESPACE)]
        for n, entries in enumerate(derived):  # a chart of Z's label, the last themes: keyed by no text
            entries.put_many([(f"digest{n}", b"png or pickle")])
        for opened in (cache, cleaned, *derived):
            opened.close()
        _small_run(store, "r1")
        confirmed = correct(store, "r1", "ana", "confirm", unit="Z")
        correct(store, "r1", "ana", "undo", event=confirmed.seq)
        correct(store, "r1", "ana", "split", theme="t2", units=["Z"], label="Tout seul")
        correct(store, "r1", "ana", "bulk", operation="confirm", units=["Z", "C"])
        correct(store, "r1", "ana", "off_topic", unit="Z")
        erasure = erase_respondent(store, "Z", "admin")

        assert erasure.runs == ["r1"] and erasure.removed["review_events"] == 3  # confirm, its undo, off_topic
        assert erasure.removed["cache_entries"] == 4 and erasure.removed["prefect_results"] == 1
        for namespace in (charts.CACHE_NAMESPACE, CACHE_NAMESPACE):
            assert BlobCache(tmp_path / "cache" / "cache.sqlite", namespace).get_many(["digest0", "digest1"]) == {}
        assert sorted(p.name for p in results.iterdir()) == ["others"]
        cache = BlobCache(tmp_path / "cache" / "cache.sqlite", "embed:x")
        assert list(cache.get_many([content_key("portail clair"), content_key(ANSWER)])) == [content_key("portail clair")]
        cache.close()
    with store.reading() as session:
        assert {r.respondent_id for r in session.query(RespondentRow)} == {"A", "B", "C"}
        assert session.query(ExcludedRow).count() == 0
        events = session.query(EventRow).order_by(EventRow.seq).all()
        themes = {t.theme_id: t for t in session.query(ThemeRow)}
        log = session.query(ErasureRow).one()
    assert [(e.action, e.seq) for e in events] == [("split", 3), ("bulk", 4)]
    assert events[0].payload["units"] == [] and events[0].touched == ["theme:t2"]
    assert events[1].payload["items"] == [{"unit": "C"}] and events[1].touched == ["unit:C"]
    assert "Z" not in json.dumps([e.payload for e in events] + [e.touched for e in events])
    assert themes["t2"].keywords == ["portail"] and themes["t2"].label == "portail"
    assert themes["t1"].label == "Accueil"
    state = load_state(store, "r1")
    assert state.reviewed == {"C"} and set(state.labels) == {"A", "B", "C"}
    assert log.kind == "respondent" and log.subject_sha256 == subject_hash("respondent", "Z") and log.by == "admin"
    assert SECRET not in json.dumps(log.removed)


def test_purge_deletes_the_runs_older_than_the_retention_and_asks_first(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "purge.sqlite")
    store = Store(db)
    _small_run(store, "old", created_at=datetime.now(UTC) - timedelta(days=100))
    _small_run(store, "new")
    with settings.overridden(cache=tmp_path / "cache"):
        runner = CliRunner()
        asked = runner.invoke(app, ["runs", "purge", "--older-than", "30", "--db", db], input="n\n")
        assert "Supprimer 1 analyse de plus de 30 jours : old ?" in asked.output and "rien n'a été effacé" in asked.output
        assert runs_older_than(store, 30) == ["old"]
        with settings.overridden(retention_days=30):
            done = runner.invoke(app, ["runs", "purge", "--yes", "--db", db])
        assert done.exit_code == 0, done.output
        assert "1 analyse de plus de 30 jours supprimée : " in done.output
    assert runs_older_than(store, 30) == []
    with store.reading() as session:
        assert [r.run_id for r in session.query(Run)] == ["new"]
    assert settings.Settings.from_env({"VERBATIMS_RETENTION_DAYS": "45"}).retention_days == 45


def test_removing_a_user_is_logged_without_their_name(tmp_path):
    store = Store(str(tmp_path / "users.sqlite"))
    add_user(store, "camille.martin", PASSWORD, "reviewer")
    erasure = erase_user(store, "camille.martin", "admin")
    assert erasure.removed["users"] == 1 and list_users(store) == []
    with store.reading() as session:
        log = session.query(ErasureRow).one()
    assert (log.kind, log.by, log.subject_sha256) == ("user", "admin", subject_hash("user", "camille.martin"))
    assert "camille" not in json.dumps(log.removed)
    with pytest.raises(NotFoundError):
        erase_user(store, "camille.martin", "admin")


def test_a_classify_job_that_fails_deletes_its_upload(tmp_path):
    """No promoted model: the job fails, and the wave's file it was given is not kept."""
    from web.jobs import Jobs

    upload = tmp_path / "uploads" / "5a5a5a5a" / "vague.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("id;reponse\n1;le portail est lent\n2;un accueil aimable\n", encoding="utf-8")
    jobs = Jobs(Store(str(tmp_path / "jobs.sqlite")))
    job = jobs.get(jobs.start_classify(upload, "ada"))
    deadline = time.monotonic() + 300
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.state == "failed", job.message
    assert not upload.parent.exists()
