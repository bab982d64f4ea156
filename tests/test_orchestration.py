"""The flows as they run unattended: deployments and their schedules, validated parameters, the watched
folder, a killed run that resumes, and the Dask task runner. Each runs in its own process with its own
Prefect home, as a served deployment or an analyst's command would."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CODEBOOK, SAMPLE  # the module pytest loaded: as tests.conftest it would run again
from prefect.exceptions import ParameterTypeError
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from flows.analyze import analyze_verbatims
from flows.runtime import task_runner
from pipeline import settings
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env(tmp: Path) -> dict:
    """A machine of its own: caches, Prefect results and home, review store."""
    return {
        **os.environ,
        "VERBATIMS_CACHE": str(tmp / "cache"),
        "VERBATIMS_DB": str(tmp / "store.sqlite"),
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_LOCAL_STORAGE_PATH": str(tmp / "cache" / "prefect-results"),
    }


def _python(code: str, tmp: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(tmp),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _analyze(tmp: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("verbatims")), "analyze", str(SAMPLE), "--codebook", str(CODEBOOK)]
    return subprocess.run([*command, "--out", str(out), *extra], capture_output=True, text=True, timeout=600, env=_env(tmp))


def test_deployments_carry_their_schedules_and_parameters(tmp_path):
    result = _python(
        """
        import json
        from prefect.client.orchestration import get_client
        from prefect.testing.utilities import prefect_test_harness
        from flows.deployments import deployments

        with prefect_test_harness(server_startup_timeout=120), get_client(sync_client=True) as client:
            found = {}
            for deployment in deployments():
                d = client.read_deployment(deployment.apply())
                found[f"{client.read_flow(d.flow_id).name}/{d.name}"] = {
                    "schedules": [s.schedule.model_dump(mode="json") for s in d.schedules],
                    "parameters": d.parameters,
                    "schema": d.parameter_openapi_schema,
                }
            print("RESULT" + json.dumps(found))
        """,
        tmp_path,
    )
    found = json.loads(result.stdout.split("RESULT", 1)[1])
    assert set(found) == {
        "analyze_verbatims/monthly",
        "classify_wave/monthly",
        "retrain_from_reviews/monthly",
        "watch_inbox/incoming",
    }
    monthly = {"cron": "0 6 1 * *", "timezone": "Europe/Paris"}
    for name in ("analyze_verbatims/monthly", "classify_wave/monthly"):
        assert monthly.items() <= found[name]["schedules"][0].items()
    assert found["retrain_from_reviews/monthly"]["schedules"][0]["cron"] == "0 5 1 * *"
    assert found["watch_inbox/incoming"]["schedules"][0]["interval"] == 300
    analyze = found["analyze_verbatims/monthly"]
    assert analyze["parameters"]["input_path"].endswith("panorama_culture_client_2025.csv")
    assert analyze["schema"]["required"] == ["input_path"]
    assert analyze["schema"]["properties"]["input_path"]["description"].startswith("Answers file")


def test_parameters_are_checked_before_a_run_starts():
    ok = analyze_verbatims.validate_parameters({"input_path": str(SAMPLE), "codebook_path": str(CODEBOOK)})
    assert ok["input_path"] == SAMPLE
    with pytest.raises(ParameterTypeError, match="fichier introuvable"):
        analyze_verbatims.validate_parameters({"input_path": "data/verbatims/missing.csv"})
    with pytest.raises(ParameterTypeError, match="type de fichier non pris en charge « .pdf »"):
        analyze_verbatims.validate_parameters({"input_path": "notes.pdf"})
    with pytest.raises(ParameterTypeError, match="un plan de codes est un fichier .yaml"):
        analyze_verbatims.validate_parameters({"input_path": str(SAMPLE), "codebook_path": str(SAMPLE)})
    with pytest.raises(ParameterTypeError, match="fichier introuvable"):
        analyze_verbatims.validate_parameters({"input_path": str(SAMPLE), "stop_words_path": "missing.txt"})
    with pytest.raises(ParameterTypeError, match="une URL postgresql://"):
        analyze_verbatims.validate_parameters({"input_path": str(SAMPLE), "db": "mysql://host/db"})


def test_task_runner_settings(monkeypatch):
    for name in ("VERBATIMS_TASK_RUNNER", "VERBATIMS_EMBED_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)  # restored after the test: the Dask settings change them
    assert isinstance(task_runner(), ThreadPoolTaskRunner)
    local = task_runner("dask:2")
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 2
    assert os.environ["VERBATIMS_EMBED_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    assert task_runner("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    with settings.overridden(task_runner="dask:3"):
        assert task_runner().cluster_kwargs["n_workers"] == 3
    with pytest.raises(InputError, match="exécuteur de tâches inconnu « fibres »"):
        task_runner("fibres")
    with pytest.raises(InputError, match="entier positif"):
        task_runner("dask:0")


def test_the_watched_folder_analyses_each_content_once(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    an_hour_ago = time.time() - 3600
    for name in ("wave.csv", "wave-again.csv", "being-copied.csv"):
        shutil.copy(SAMPLE, incoming / name)
    (incoming / "notes.pdf").write_bytes(b"%PDF-1.4")
    (incoming / "export.csv.part").write_text("id,texte\n1,Plus de moy", encoding="utf-8")
    for name in ("wave.csv", "wave-again.csv", "notes.pdf", "export.csv.part"):
        os.utime(incoming / name, (an_hour_ago, an_hour_ago + (name == "wave-again.csv")))
    result = _python(
        f"""
        import json, time
        import httpx
        from prefect.client.orchestration import get_client
        from flows.inbox import watch_inbox

        def artifact_keys(keys=("ranked-themes-table", "ranked-themes", "report-link", "inbox")):
            # Straight to the API: this client sends nulls for the filters left out, which the server refuses.
            with get_client(sync_client=True) as client:
                url = str(client.api_url).rstrip("/") + "/artifacts/filter"
            for _ in range(20):  # the last artifact of a run reaches the server a moment after the run ends
                body = {{"artifacts": {{"key": {{"any_": list(keys)}}}}}}
                found = {{a["key"] for a in httpx.post(url, json=body).json()}}
                if len(found) == len(keys):
                    break
                time.sleep(0.5)
            return sorted(found)

        first = watch_inbox(folder={str(incoming)!r}, settle_seconds=600)
        second = watch_inbox(folder={str(incoming)!r}, settle_seconds=600)
        keys = artifact_keys()
        print("RESULT" + json.dumps({{"first": first, "second": second, "artifacts": keys}}, default=str))
        """,
        tmp_path,
    )
    found = json.loads(result.stdout.split("RESULT", 1)[1])
    outcomes = {o["file"]: o for o in found["first"]}
    assert set(outcomes) == {"wave.csv", "wave-again.csv", "notes.pdf"}
    run_id = outcomes["wave.csv"]["run_id"]
    assert outcomes["wave.csv"]["outcome"] == "processed" and (Path(outcomes["wave.csv"]["out_dir"]) / "report.md").exists()
    assert outcomes["wave-again.csv"]["outcome"] == "processed"
    assert outcomes["wave-again.csv"]["reason"] == f"même contenu que wave.csv, déjà analysé dans l'analyse {run_id}"
    assert (
        outcomes["notes.pdf"]["outcome"] == "failed"
        and "type de fichier non pris en charge « .pdf »" in outcomes["notes.pdf"]["reason"]
    )
    assert found["second"] == []  # nothing new: each file was analysed once
    assert sorted(p.name for p in incoming.iterdir() if p.is_file()) == ["being-copied.csv", "export.csv.part"]
    assert json.loads((incoming / "processed" / "wave.csv.json").read_text())["run_id"] == run_id
    assert (incoming / "failed" / "notes.pdf").exists() and (incoming / "failed" / "notes.pdf.json").exists()
    runs = subprocess.run(
        [str(Path(sys.executable).with_name("verbatims")), "runs"], capture_output=True, text=True, env=_env(tmp_path)
    )
    assert runs.stdout.count("wave") == 1, runs.stdout  # the copy was not analysed again
    assert {"ranked-themes-table", "ranked-themes", "report-link", "inbox"} <= set(found["artifacts"])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uninterrupted")
    result = _analyze(tmp, tmp / "out")
    assert result.returncode == 0, result.stderr
    return pd.read_csv(tmp / "out" / "themes.csv")


def _themes(themes: pd.DataFrame) -> list:
    return themes[["rank", "theme_id", "label", "n_respondents", "keywords"]].values.tolist()


def test_a_run_killed_after_embedding_resumes_without_embedding_again(tmp_path, uninterrupted):
    command = [str(Path(sys.executable).with_name("verbatims")), "analyze", str(SAMPLE), "--codebook", str(CODEBOOK)]
    killed = subprocess.Popen(
        [*command, "--out", str(tmp_path / "killed")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(tmp_path),
        start_new_session=True,  # its Prefect server goes down with it
    )
    seen = []
    for line in killed.stdout:
        seen.append(line)
        if "embed: 286/286 texts" in line:
            os.killpg(killed.pid, signal.SIGKILL)
            break
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL, "".join(seen)
    assert not (tmp_path / "killed" / "manifest.json").exists()
    for path in (tmp_path / "cache").glob("cache.sqlite*"):  # only Prefect's stage results are left to resume from
        path.unlink()

    resumed = _analyze(tmp_path, tmp_path / "resumed")
    assert resumed.returncode == 0, resumed.stderr
    log = resumed.stdout + resumed.stderr
    assert "embedded 286 texts" not in log and "kept 286 idea units" in log
    assert "Task run 'embed-batch" in log and "Finished in state Cached(type=COMPLETED)" in log
    manifest = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert manifest["counts"]["embedded_new"] == 0 and manifest["counts"]["units"] == 286
    assert _themes(pd.read_csv(tmp_path / "resumed" / "themes.csv")) == _themes(uninterrupted)


def test_dask_runner_gives_the_same_themes_as_threads(tmp_path, uninterrupted):
    result = _analyze(tmp_path, tmp_path / "dask", "--task-runner", "dask:2")
    assert result.returncode == 0, result.stderr
    assert _themes(pd.read_csv(tmp_path / "dask" / "themes.csv")) == _themes(uninterrupted)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "service-stop"])
def test_serve_flows_shows_the_deployments_and_their_next_runs(tmp_path, stop):
    """What an analyst sees after `make serve-flows`: a live server whose scheduler has planned the runs.
    Ctrl-C or a service manager's SIGTERM stops it with its server."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in _env(tmp_path).items() if k != "PREFECT_API_URL"}
    served = subprocess.Popen(
        [str(Path(sys.executable).with_name("verbatims")), "serve-flows", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    api = f"http://127.0.0.1:{port}/api"
    deployments, scheduled = [], []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (len(deployments) == 4 and scheduled):
            time.sleep(3)
            assert served.poll() is None, served.stdout.read()
            try:
                deployments = httpx.post(f"{api}/deployments/filter", json={}).json()
                body = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
                scheduled = httpx.post(f"{api}/flow_runs/filter", json=body).json()
            except httpx.HTTPError:
                continue  # the server is still starting
    finally:
        served.send_signal(stop)
        output = served.communicate(timeout=60)[0]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health")
    assert sorted(d["name"] for d in deployments) == ["incoming", "monthly", "monthly", "monthly"], output
    monthly = [r for r in scheduled if r["expected_start_time"][8:10] == "01"]  # the 1st of a month
    assert monthly, f"no monthly run planned: {[r['expected_start_time'] for r in scheduled]}"
    assert f"Interface Prefect : http://127.0.0.1:{port}" in output
