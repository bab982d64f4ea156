"""The flows as they run unattended: deployments and their schedules, validated parameters, the watched
folder, a killed run that resumes, and the Dask task runner. Each runs in its own process with its own
Prefect home, as a served deployment or an analyst's command would."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from flows.params import CodebookFile, DbUrl, InputFile
from flows.runtime import task_runner
from pipeline.errors import InputError
from tests.conftest import CODEBOOK, SAMPLE

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
    return subprocess.run(
        [*command, "--out", str(out), *extra], capture_output=True, text=True, timeout=600, env=_env(tmp)
    )


def test_deployments_carry_their_schedules_and_parameters(tmp_path):
    result = _python(
        """
        import json, time
        from prefect.artifacts import Artifact
        from flows.inbox import watch_inbox

        def artifact_keys(keys=("ranked-themes-table", "ranked-themes", "report-link", "inbox")):
            for _ in range(20):  # the last artifact of a run reaches the server a moment after the run ends
                found = [key for key in keys if Artifact.get(key) is not None]
                if len(found) == len(keys):
                    break
                time.sleep(0.5)
            return found

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
    assert outcomes["wave-again.csv"]["reason"] == f"same content as wave.csv, already analysed in run {run_id}"
    assert outcomes["notes.pdf"]["outcome"] == "failed" and "unsupported file type '.pdf'" in outcomes["notes.pdf"]["reason"]
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
