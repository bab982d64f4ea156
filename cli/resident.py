"""The resident engine, client side: ``verbatims analyze`` handed to a process that has everything loaded.

A re-run with a few new answers does little work, but a new process pays for it all again: Python's imports,
Prefect's, spaCy's model (2 s of it compiling the French tokenizer's exception pattern), the embedder, then the
cleaning worker's own spaCy (10,000 answers plus 100 new: 15 to 17 s of which 4 s before the flow starts and
5 s cleaning 100 answers). An ``analyze`` that ran by itself starts an engine (``cli/resident_engine.py``) as it
ends; the engine loads the models once, at low priority, while the user reads the results (a command started
before it is ready runs by itself), listens on a Unix socket, and serves each later ``analyze`` in a fork of
itself, with the caller's terminal, folder and environment; it ends once unused for ``VERBATIMS_ENGINE_IDLE``
seconds (0: no engine).

An engine serves only the setting it was started for: the same Python, the same library files, the same
working folder and the same variables that choose stores, caches and threads (``engine_key``). Its socket is
in a folder only this user can enter, and the engine serves only this user's processes (``SO_PEERCRED``).

This module is imported before anything heavy: sockets and files only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

from pipeline import settings

# Linux: fork, file descriptors passed over Unix sockets, and the peer's uid (SO_PEERCRED)
SUPPORTED = hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "SO_PEERCRED")
SERVED = {"analyze"}  # the commands an engine runs; the others start their own process as before
# Variables read when modules load or settings are first read (stores, caches, Prefect, threads): an engine
# loaded under other values would serve another setting, so they name the engine. The others (the terminal's,
# the locale's) are handed to each run.
KEYED_PREFIXES = ("VERBATIMS_", "PREFECT_", "PYTHON", "OMP_", "OPENBLAS_", "MKL_", "TOKENIZERS_", "HOME")
PACKAGES = ("cli", "flows", "pipeline", "review", "web")  # the library files an engine has loaded
# What a terminal or a user sends a command (interrupt, quit, hang-up, terminate): the run gets it, as it would
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
ENGINE_CHILD = "VERBATIMS_ENGINE_RUN"  # set in the engine's runs: they never hand over again
HEADER = struct.Struct("!I")  # the request's length, then its JSON; the reply: the run's pid, then its exit code


# The command's environment and folder before any of its modules changed them (this module is imported first)
GIVEN_ENVIRONMENT = dict(os.environ)
GIVEN_FOLDER = os.getcwd()


def engine_folder() -> Path:
    """This user's engines' sockets, locks and logs: a folder only they can enter (checked, not assumed)."""
    folder = Path(tempfile.gettempdir()) / f"verbatims-engines-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{folder} must be a folder of user {os.getuid()} that only they can enter")
    return folder


def _library_files() -> list[tuple[str, int, int]]:
    root = Path(__file__).resolve().parent.parent
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            info = path.stat()
            found.append((str(path), info.st_mtime_ns, info.st_size))
    return found


def engine_key(environ: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """What an engine was loaded for: Python, the library files (an edit starts another engine), the working
    folder (relative stores and caches) and the keyed variables, as the command was started with them (its
    modules set some defaults later: ``flows`` names Prefect's result folder)."""
    environ = GIVEN_ENVIRONMENT if environ is None else environ
    keyed = sorted((k, v) for k, v in environ.items() if k.startswith(KEYED_PREFIXES))
    parts = [sys.executable, GIVEN_FOLDER if cwd is None else cwd, keyed, _library_files()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def socket_path(key: str) -> Path:
    return engine_folder() / f"{key}.sock"


def _engines_on() -> bool:
    """Engines are wanted (an idle time), the system has them, and this process is not itself an engine's run."""
    return settings.current().engine_idle > 0 and SUPPORTED and not os.environ.get(ENGINE_CHILD)


def served(argv: list[str]) -> bool:
    """Whether an engine would run this command line: a served command, and engines on."""
    return bool(argv) and argv[0] in SERVED and not {"--help", "-h"} & set(argv) and _engines_on()


def hand_over(argv: list[str]) -> int | None:
    """Run ``verbatims ARGV`` in this setting's engine when one is ready: its exit code, else None (no engine,
    or one that is gone; the caller then runs the command itself)."""
    if not served(argv):
        return None
    run = _Run()
    previous = {signum: signal.signal(signum, run.forward) for signum in FORWARDED}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(socket_path(engine_key())))
            message = json.dumps({"argv": argv, "cwd": GIVEN_FOLDER, "env": GIVEN_ENVIRONMENT}).encode()
            message = HEADER.pack(len(message)) + message
            sent = socket.send_fds(client, [message], [0, 1, 2])  # the terminal, with the first bytes
            client.sendall(message[sent:])
            run.pid = _read_int(client)
            if run.pid is None:  # the engine ended between our connection and its fork
                return None
            try:
                code = _read_int(client)
            except OSError:
                code = None
            return 1 if code is None else code  # the run died without a word (killed): a failure
    except OSError:  # no engine for this setting, one killed without removing its socket, or one that ended
        return None  # before it forked: the command runs here
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Run:
    """The served run, for the signals this process gets: they reach the run, which is not in this terminal's
    process group. Before its pid is known, this process leaves: the engine's fork sees the connection close and
    ends as a command would (``cli/resident_engine.py``)."""

    pid: int | None = None

    def forward(self, signum: int, _frame: object) -> None:
        if self.pid is None:
            os._exit(128 + signum)
        with suppress(ProcessLookupError):
            os.kill(self.pid, signum)


def receive(connection: socket.socket, size: int, data: bytes = b"") -> bytes | None:
    """``size`` bytes from ``connection`` (``data`` already read included); None when it closes before them. A
    signal handled meanwhile does not break the wait: ``recv`` is retried by Python itself (PEP 475)."""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_int(connection: socket.socket) -> int | None:
    data = receive(connection, HEADER.size)
    return None if data is None else HEADER.unpack(data)[0]


def start_engine(server_folder: Path | None) -> None:
    """An engine for this setting, unless one is running or starting (its lock is held) or engines are off.
    It outlives this command and loads once no command uses the shared Prefect server of ``server_folder`` (their
    leases, ``cli/prefect_server.py``), at low priority; its output goes to a log beside its socket."""
    if not _engines_on():
        return
    try:
        key = engine_key()
        folder = engine_folder()
    except OSError:
        return  # no private folder for the socket: commands run as before
    with open(folder / f"{key}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # an engine holds it
        fcntl.flock(lock, fcntl.LOCK_UN)  # the engine takes it for its whole life; a second one started leaves
    with open(folder / f"{key}.log", "ab") as log:
        idle = str(settings.current().engine_idle)
        subprocess.Popen(  # -P: the user's folder is not on its path (a pipeline.py there would shadow ours)
            [sys.executable, "-P", "-m", "cli.resident_engine", key, idle, str(server_folder or "")],
            cwd=GIVEN_FOLDER,
            env=GIVEN_ENVIRONMENT,  # its modules set their defaults in it as this command's did
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C in the terminal stops the command, not the engine
        )
