"""Issue 18, case 19: `kill -9` of a command leaves no Prefect server behind; issue 19: the next command finds the
server the previous one started, and the server ends once no command has used it for the idle time."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil

USES_THE_SERVER = """
import sys, time
from cli.prefect_server import LocalApi
api = LocalApi.acquire()
api.wait()
print(api.pid, api.started, flush=True)
if sys.argv[1] == "hold":
    time.sleep(600)
api.release()
"""


def _command(tmp_path, idle: int, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "VERBATIMS_PREFECT_IDLE": str(idle)}
    return subprocess.Popen([sys.executable, "-c", USES_THE_SERVER, mode], stdout=subprocess.PIPE, text=True, env=env)


def _server_of(command: subprocess.Popen) -> tuple[psutil.Process, bool]:
    pid, started = command.stdout.readline().split()
    return psutil.Process(int(pid)), started == "True"


def test_the_prefect_server_ends_with_a_command_killed_by_sigkill(tmp_path):
    command = _command(tmp_path, idle=0, mode="hold")
    server = None
    try:
        server, started = _server_of(command)
        assert started and server.is_running() and server.ppid() == command.pid
        command.send_signal(signal.SIGKILL)  # no exit handler runs: its lease stays behind, naming a dead pid
        command.wait(timeout=10)
        server.wait(timeout=15)  # raises psutil.TimeoutExpired if the server outlives its command
        assert not server.is_running()
        assert not (tmp_path / "prefect" / "verbatims-api" / "server.json").exists()
    finally:  # only what this test started: the session's own Prefect server is a child of this process too
        command.kill()
        if server is not None and server.is_running():
            server.kill()


def test_the_next_command_finds_the_server_and_it_ends_once_idle(tmp_path):
    server = None
    try:
        first = _command(tmp_path, idle=4, mode="release")
        server, started = _server_of(first)
        assert started
        first.wait(timeout=30)
        second = _command(tmp_path, idle=4, mode="release")  # within the idle time: the same server, not a new one
        found, started = _server_of(second)
        second.wait(timeout=30)
        assert (found.pid, started) == (server.pid, False)
        state = json.loads((tmp_path / "prefect" / "verbatims-api" / "server.json").read_text())
        assert state["pid"] == server.pid
        time.sleep(1)
        assert server.is_running()  # a second after its last command: still there
        server.wait(timeout=20)  # then gone, and no command is handed it any more
        assert not (tmp_path / "prefect" / "verbatims-api" / "server.json").exists()
        third = _command(tmp_path, idle=0, mode="release")
        fresh, started = _server_of(third)
        third.wait(timeout=30)
        assert started and fresh.pid != server.pid
        fresh.wait(timeout=15)
    finally:
        for process in (server,):
            if process is not None and process.is_running():
                process.kill()
