"""Issue 18, case 19: `kill -9` of a command leaves no temporary Prefect server behind."""

import os
import signal
import subprocess
import sys

import psutil

STARTS_A_SERVER = """
from cli.prefect_server import LocalApi
api = LocalApi.start()
api.wait()
print(api.process.pid, flush=True)
import time
time.sleep(600)
"""


def test_the_temporary_prefect_server_ends_with_a_command_killed_by_sigkill(tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    command = subprocess.Popen([sys.executable, "-c", STARTS_A_SERVER], stdout=subprocess.PIPE, text=True, env=env)
    server = None
    try:
        server = psutil.Process(int(command.stdout.readline()))
        assert server.is_running() and server.ppid() == command.pid
        command.send_signal(signal.SIGKILL)  # no exit handler runs
        command.wait(timeout=10)
        server.wait(timeout=15)  # raises psutil.TimeoutExpired if the server outlives its command
        assert not server.is_running()
    finally:  # only what this test started: the session's own Prefect server is a child of this process too
        command.kill()
        if server is not None and server.is_running():
            server.kill()
