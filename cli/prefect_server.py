"""A Prefect API for the commands of one Prefect home: started by the first command, found by the next ones.

With no ``PREFECT_API_URL``, Prefect starts a temporary server when the flow first needs one: it imports its
whole server package into our process (about 3 s of CPU) just to launch it, then waits about 6 s for it to
answer, while nothing else runs, and stops it at exit, so the next command pays it all again. Here the server is
launched as Prefect would launch it, but in a session of its own, and it stays up ``VERBATIMS_PREFECT_IDLE``
seconds after its last command ended (``cli/prefect_child.py`` watches who uses it): an analyst who runs a command
again within that time finds it answering. The sample's re-run took 14 s with a fresh server each time, 5 s of it
waiting for the server. With ``PREFECT_API_URL`` set (an analyst's own server, ``serve-flows``), that one is used.

Who uses the server is a lease file per command (``leases/<pid>``); a lock file orders the commands that start
or find it and the server deciding to stop, so that no command is handed a server that is about to end.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cli.prefect_database import seed_database
from pipeline import settings
from pipeline.errors import InputError
from pipeline.messages import say

STATE_FOLDER = "verbatims-api"  # in the Prefect home: the server keeps its runs in that home's database


def state_folder() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()).expanduser() / STATE_FOLDER


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """The folder's lock, held by one process at a time: a command finding or starting the server, or the server
    deciding to stop."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, not ours to judge
        return True
    return True


class LocalApi:
    """This command's use of the shared server: ``acquire``, ``wait`` before a flow runs, ``release``."""

    def __init__(self, folder: Path, url: str, pid: int, process: subprocess.Popen | None):
        self.folder, self.url, self.pid, self.process = folder, url, pid, process
        self.started = process is not None  # this command launched it (and may warm its models up meanwhile)

    @classmethod
    def acquire(cls) -> LocalApi:
        folder = state_folder()
        with locked(folder):
            lease = folder / "leases" / str(os.getpid())
            lease.parent.mkdir(exist_ok=True)
            lease.touch()  # before the server is found or started: it never sees itself unused in between
            api = cls._running(folder) or cls._start(folder)
        # ``using`` releases it; this covers what fails between acquire and ``using`` (an import, Ctrl-C).
        # Releasing twice is harmless.
        atexit.register(api.release)
        return api

    @classmethod
    def _running(cls, folder: Path) -> LocalApi | None:
        """The server another command started, if it is still there and runs the same Python and Prefect."""
        try:
            state = json.loads((folder / "server.json").read_text())
        except (OSError, ValueError):
            return None
        if state.get("launcher") != _launcher() or not alive(int(state["pid"])):
            return None
        return cls(folder, state["url"], int(state["pid"]), None)

    @classmethod
    def _start(cls, folder: Path) -> LocalApi:
        import prefect
        from prefect.settings import get_current_settings

        seed_database()  # a new home's database copied, not migrated: the server answers about 5 s sooner
        with socket.socket() as probe:  # a free port, as Prefect picks one
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [  # uvicorn under a watchdog that stops it once no command has used it for the idle time
            sys.executable, "-P", "-m", "cli.prefect_child", str(folder), str(settings.current().prefect_idle),
            "--app-dir", str(Path(prefect.__file__).parent.parent),
            "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        env = {
            **os.environ,
            **get_current_settings().to_environment_variables(exclude_unset=True),
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        with open(folder / "server.log", "ab") as log:
            # its own session: Ctrl-C in the terminal stops the command, not the server the next command will use;
            # its output to a file: a caller reading the command's output would otherwise wait for the server's end
            process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        url = f"http://127.0.0.1:{port}/api"
        state = {"url": url, "pid": process.pid, "launcher": _launcher()}
        (folder / "server.json.new").write_text(json.dumps(state))
        (folder / "server.json.new").replace(folder / "server.json")
        return cls(folder, url, process.pid, process)

    def wait(self) -> None:
        """As long as Prefect would wait for its own temporary server (``flows`` sets 120 s by default)."""
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        wait_for_api(self.url, self._exit_code, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())

    def _exit_code(self) -> int | None:
        if self.process is not None:
            return self.process.poll()
        return None if alive(self.pid) else -1

    def release(self) -> None:
        """This command no longer uses the server; it ends once no command has for the idle time."""
        with suppress(FileNotFoundError):
            (self.folder / "leases" / str(os.getpid())).unlink()


def _launcher() -> str:
    """Which Python and Prefect a server runs: a command of another virtual environment starts its own."""
    from importlib.metadata import version

    return f"{sys.executable} prefect {version('prefect')}"


def wait_for_api(api_url: str, exit_code: Callable[[], int | None], timeout: float = 120) -> None:
    """Until the server answers its health check; an error that says why when it stops or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (code := exit_code()) is not None:
            raise InputError(say("prefect.stopped", code=code, api_url=api_url))
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise InputError(say("prefect.silent", api_url=api_url, timeout=timeout))


def local_api() -> LocalApi | None:
    """The shared server unless the environment names one."""
    from prefect.settings import PREFECT_API_URL

    return None if PREFECT_API_URL.value() else LocalApi.acquire()


@contextmanager
def using(api: LocalApi | None) -> Iterator[None]:
    """Flows run inside use ``api`` (once it answers); it is released on the way out, whatever happened."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if api is None:
        yield
        return
    try:
        api.wait()
        # No flow run heartbeats: they let a server mark a run whose process died, and this server lives only as
        # long as the commands using it. Prefect's heartbeat thread sleeps by whole seconds and each flow run waits
        # for it as it ends: 0 to 1 s per command (0.58 s of a 7.9 s re-run of 10,100 answers, measured).
        with temporary_settings(updates={PREFECT_API_URL: api.url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            try:
                yield
            finally:
                _deliver_queued_logs_and_events()
    finally:
        api.release()


def _deliver_queued_logs_and_events() -> None:
    """Prefect sends logs and events from background workers; the server may stop once released, so what is
    queued goes first (a closed port at exit cost a minute of retries, "Error logging to API"). Prefect's own
    test harness drains them so."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with suppress(RuntimeError):  # raised when no log was sent
        APILogWorker.instance().drain()
    EventsWorker.drain_all()
