"""Issue 19: the first `verbatims analyze` of a setting starts a resident engine; the next ones are served by it,
with the same results, the same messages and exit codes on the caller's terminal, and it ends once unused."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CODEBOOK, SAMPLE  # the module pytest loaded: as tests.conftest it would run again

from cli import resident
from pipeline import settings

IDLE = 40  # seconds: long enough for the runs below, short enough to see the engine end


def _environment(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VERBATIMS_CACHE": str(tmp / "cache"),
        "VERBATIMS_DB": str(tmp / "store.sqlite"),
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_LOCAL_STORAGE_PATH": str(tmp / "cache" / "prefect-results"),
        "VERBATIMS_ENGINE_IDLE": str(IDLE),
        "VERBATIMS_PREFECT_IDLE": str(IDLE),
    }


def _verbatims(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("verbatims")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def _socket(env: dict[str, str], cwd: Path) -> Path:
    return resident.socket_path(resident.engine_key(env, str(cwd)))


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The sample analysed by a command of its own, then again once its engine is ready, then a mistake, a crash,
    and a run whose command is killed. The folder holds a ``pipeline.py`` that no run may import instead of ours."""
    tmp = tmp_path_factory.mktemp("engine")
    (tmp / "pipeline.py").write_text("raise SystemExit('the folder shadowed the library')\n")
    env = _environment(tmp)
    first = _verbatims(env, tmp, "analyze", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(tmp / "out1"))
    assert first.returncode == 0, first.stderr
    sock = _socket(env, tmp)
    assert _wait_for(sock.exists, 180), "the engine never became ready"
    second = _verbatims(env, tmp, "analyze", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(tmp / "out2"))
    wrong = _verbatims(env, tmp, "analyze", str(SAMPLE), "--codebook", str(tmp / "absent.yaml"))
    crash = _verbatims(env, tmp, "analyze", str(SAMPLE), "--stop-words", "/proc/self/mem")  # unreadable: OSError
    command = [str(Path(sys.executable).with_name("verbatims")), "analyze", str(SAMPLE), "--recluster"]
    killed = subprocess.Popen([*command, "--out", str(tmp / "out4")], env=env, cwd=tmp, stdout=subprocess.DEVNULL)
    time.sleep(1.5)  # served, importing BERTopic to find the themes again: far from done
    killed.kill()
    log_file = sock.parent / f"{sock.stem}.log"
    assert _wait_for(lambda: log_file.read_text().count(" ended: ") == 4, 60)  # the engine reaps each second
    log = log_file.read_text()
    runs = {"first": first, "second": second, "wrong": wrong, "crash": crash}
    return {"tmp": tmp, "env": env, "sock": sock, "log": log, **runs}


def test_the_second_run_is_served_by_the_engine_with_the_same_results(served):
    tmp, first, second, log = served["tmp"], served["first"], served["second"], served["log"]
    assert second.returncode == 0, second.stderr
    assert log.count(" started") == 4 and "ended: exit code 0" in log  # the second run, then three more
    for name in ("themes.csv", "assignments.csv", "segments.csv", "excluded.csv"):
        assert (tmp / "out2" / name).read_bytes() == (tmp / "out1" / name).read_bytes(), name
    manifest = json.loads((tmp / "out2" / "manifest.json").read_text())
    assert manifest["parameters"]["theme_path"]["path"] == "placed"
    # the summary reached the caller's terminal, as from a command of its own
    assert first.stdout.splitlines()[1] in second.stdout and "Mêmes idées et mêmes réglages" in second.stdout


def test_a_mistake_is_one_french_line_and_its_exit_code(served):
    wrong, log = served["wrong"], served["log"]
    assert wrong.returncode == 2
    assert wrong.stderr.strip().startswith("erreur :") and "absent.yaml" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    assert "ended: exit code 2" in log


def test_a_crash_shows_its_traceback_as_a_command_of_its_own_would(served):
    crash = served["crash"]
    assert crash.returncode == 1 and "ended: exit code 1" in served["log"]
    assert "Traceback" in crash.stderr and "OSError" in crash.stderr


def test_a_run_whose_command_is_killed_ends_with_it(served):
    assert "ended: exit code -1" in served["log"]  # hung up, as a command whose terminal closed
    assert not (served["tmp"] / "out4" / "manifest.json").exists()


def test_the_engine_is_this_users_alone(served):
    sock = served["sock"]
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600


def test_the_engine_ends_once_unused(served):
    tmp, env, sock = served["tmp"], served["env"], served["sock"]
    assert _wait_for(lambda: not sock.exists(), IDLE + 30)
    assert not (sock.parent / f"{sock.stem}.log").exists()
    # gone, commands run by themselves again (and start a new engine)
    again = _verbatims(env, tmp, "analyze", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(tmp / "out3"))
    assert again.returncode == 0, again.stderr
    assert (tmp / "out3" / "themes.csv").read_bytes() == (tmp / "out1" / "themes.csv").read_bytes()
    assert _wait_for(sock.exists, 180)
    assert _wait_for(lambda: not sock.exists(), IDLE + 30)


def test_an_engine_serves_one_setting_only(tmp_path):
    env = _environment(tmp_path)
    key = resident.engine_key(env, str(tmp_path))
    assert resident.engine_key({**env, "TERM": "dumb", "COLUMNS": "40"}, str(tmp_path)) == key
    assert resident.engine_key({**env, "VERBATIMS_DB": str(tmp_path / "other.sqlite")}, str(tmp_path)) != key
    assert resident.engine_key(env, str(tmp_path / "elsewhere")) != key


def test_a_folder_others_can_enter_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(resident.tempfile, "gettempdir", lambda: str(tmp_path))
    folder = tmp_path / f"verbatims-engines-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(PermissionError):
        resident.engine_folder()
    with settings.overridden(engine_idle=60):
        assert resident.served(["analyze", "x.csv"])
        assert resident.hand_over(["analyze", "x.csv"]) is None  # refused: the command runs by itself
