"""A Prefect API for one command, started before the command's heavy work rather than in the middle of it.

With no ``PREFECT_API_URL``, Prefect starts a temporary server when the flow first needs one: it imports its
whole server package into our process (about 3 s of CPU) just to launch it, then waits about 6 s for it to
answer, while nothing else runs. A re-run on cached texts spent a third of its time there. Launched here,
as Prefect would launch it, the server starts while the command checks its input and loads spaCy and the
embedder. With ``PREFECT_API_URL`` set (an analyst's own server, ``serve-flows``), that server is used.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pipeline.errors import InputError
from pipeline.messages import say


class LocalApi:
    """A temporary Prefect server in its own process: ``start``, then ``wait`` before a flow runs, ``stop``."""

    def __init__(self, process: subprocess.Popen, url: str):
        self.process, self.url = process, url

    @classmethod
    def start(cls) -> LocalApi:
        import prefect
        from prefect.settings import get_current_settings

        with socket.socket() as probe:  # a free port, as Prefect picks one
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [  # uvicorn under a watchdog that stops it when this process ends, even by kill -9
            sys.executable, "-m", "cli.prefect_child", str(os.getpid()),
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
        api = cls(subprocess.Popen(command, env=env), f"http://127.0.0.1:{port}/api")
        # ``using`` stops it; this covers what fails between start and ``using`` (an import, Ctrl-C), as Prefect
        # covers its own temporary server. Stopping twice is harmless: a stopped process is not signalled again.
        atexit.register(api.stop)
        return api

    def wait(self) -> None:
        """As long as Prefect would wait for its own temporary server (``flows`` sets 120 s by default)."""
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        wait_for_api(self.url, self.process, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for_api(api_url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    """Until the server answers its health check; an error that says why when it stops or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise InputError(say("prefect.stopped", code=server.returncode, api_url=api_url))
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise InputError(say("prefect.silent", api_url=api_url, timeout=timeout))


def start_local_api() -> LocalApi | None:
    """A temporary server unless the environment names one."""
    from prefect.settings import PREFECT_API_URL

    return None if PREFECT_API_URL.value() else LocalApi.start()


@contextmanager
def using(api: LocalApi | None) -> Iterator[None]:
    """Flows run inside use ``api`` (once it answers); it is stopped on the way out, whatever happened."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if api is None:
        yield
        return
    try:
        api.wait()
        with temporary_settings(updates={PREFECT_API_URL: api.url}):
            try:
                yield
            finally:
                _deliver_queued_logs_and_events()
    finally:
        api.stop()


def _deliver_queued_logs_and_events() -> None:
    """Prefect sends logs and events from background workers; stopping the server under them made each retry
    a closed port at exit (a minute lost, "Error logging to API"). Prefect's own test harness drains them so."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with suppress(RuntimeError):  # raised when no log was sent
        APILogWorker.instance().drain()
    EventsWorker.drain_all()
