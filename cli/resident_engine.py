"""The resident engine's process (``cli.resident``): loads what ``verbatims analyze`` needs once, then serves each
command in a fork of itself, until unused for the idle time.

A fork shares the loaded models and imported modules with the engine (copy on write) and is the command as the
user typed it: their terminal (the file descriptors the client sent), their folder and environment, the same
exit code. The engine itself never runs a flow, so each fork starts from the same clean state, and a run that
fails or is killed leaves the engine as it was.
"""

from __future__ import annotations

import atexit
import fcntl
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from contextlib import suppress
from pathlib import Path

from cli.prefect_child import users
from cli.resident import ENGINE_CHILD, HEADER, engine_folder, receive

# Its loading takes the cores nothing else wants: loaded at nice 0 while a 10,000-answer run went on, it made that
# run 5 to 9 s slower (81 and 84 s against 75 and 74 s).
NICE = 19
ACCEPT_POLL = 1.0  # seconds between checks of the idle time
MAX_REQUEST = 1 << 20  # a request is a command line, a folder and an environment
REQUEST_SECONDS = 2.0  # a client sends its request as it connects; one that does not holds the engine this long


def _import_flows() -> None:
    import flows.analyze  # noqa: F401  (Prefect, the flows and the stages they import)
    from cli.main import app  # noqa: F401  (the commands, typer)


def _warm_cleaning() -> None:
    from pipeline import clean

    clean.warm_up()


def _warm_embedder() -> None:
    from pipeline import embed
    from pipeline.settings import DEFAULT_EMBEDDER

    embed.warm_up(DEFAULT_EMBEDDER)


def _warm_exports() -> None:
    """What every run imports on its way but the flows do not at their import (0.4 s of each served run, measured
    by the modules a served re-run added): Prefect's flow engine and what a flow call imports with it, the
    Parquet writer, and matplotlib with its font."""
    import fastapi.encoders  # noqa: F401  (Prefect serialises each flow run's parameters with it)
    import prefect.flow_engine  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401  (imported by each flow call: graphviz)
    import pyarrow.parquet  # noqa: F401  (themes.parquet)

    from pipeline import charts

    charts.warm_up()


# What a run placing a few new answers imports and loads, so that its fork finds it done, step by step. Not BERTopic
# and scikit-learn (4 to 5 s of CPU): a run that finds its themes again imports them, as a command of its own does.
LOAD_STEPS = (_import_flows, _warm_cleaning, _warm_embedder, _warm_exports)
DEFAULTS_SET: dict[str, str] = {}  # variables the engine's modules added to its environment as they loaded


def _load_gently(server_folder: Path | None) -> None:
    """The steps in a thread of the lowest priority (Linux gives each thread its own nice value, so the runs that
    the main thread forks later run at the user's priority: a process cannot raise its own back), each once no
    command uses the setting's Prefect server: a command run at once goes first (the sample's second run took 4.0
    to 5.3 s beside the loading engine, 3.3 s alone). Its lease comes after its imports: one poll of grace."""
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    given = dict(os.environ)
    time.sleep(ACCEPT_POLL)
    for step in LOAD_STEPS:
        while server_folder is not None and users(server_folder):
            time.sleep(ACCEPT_POLL)
        step()
    DEFAULTS_SET.update({k: v for k, v in os.environ.items() if k not in given})
    gc.freeze()  # what is loaded stays shared with the forks: their collections never touch it


def serve(key: str, idle: float, server_folder: Path | None) -> None:
    folder = engine_folder()
    with open(folder / f"{key}.lock", "a") as lock:  # held for the engine's life (and by its runs)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another engine serves this setting, or is loading
        signal.signal(signal.SIGTERM, _stop)  # `kill`: it ends as when idle, its files removed
        _log(f"engine {key} loading")
        try:
            loader = threading.Thread(target=_load_gently, args=(server_folder,), name="engine-load", daemon=True)
            loader.start()
            loader.join()
            _listen(folder / f"{key}.sock", idle)
        except _Stopped:
            _log(f"engine {key} stopped by SIGTERM")
        for left in (f"{key}.log", f"{key}.lock"):  # kept only by an engine that failed, to say why
            (folder / left).unlink(missing_ok=True)


class _Stopped(Exception):
    """SIGTERM reached the engine."""


def _stop(_signum: int, _frame: object) -> None:
    raise _Stopped


def _listen(path: Path, idle: float) -> None:
    """Runs forked on request until none has come, and none is running, for ``idle`` seconds since the last ended
    or the engine was ready (the command that started it has ended by then: it starts the engine as it ends)."""
    path.unlink(missing_ok=True)  # left by an engine that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # the socket: this user only
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(8)
    listener.settimeout(ACCEPT_POLL)
    runs: set[int] = set()
    last_used = time.monotonic()
    _log(f"engine {path.stem} ready (pid {os.getpid()})")
    try:
        while runs or time.monotonic() - last_used < idle:
            with suppress(TimeoutError):
                connection, _ = listener.accept()
                with connection:
                    if (pid := _fork_run(connection, listener)) is not None:
                        runs.add(pid)
                        _log(f"run {pid} started")
            for pid in list(runs):
                with suppress(ChildProcessError):
                    ended, status = os.waitpid(pid, os.WNOHANG)
                    if ended == 0:
                        continue
                    _log(f"run {pid} ended: exit code {os.waitstatus_to_exitcode(status)}")
                runs.discard(pid)
                last_used = time.monotonic()
    finally:
        path.unlink(missing_ok=True)
        listener.close()
    _log(f"engine {path.stem} idle for {idle:.0f} s: stopped")


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", flush=True)


def _fork_run(connection: socket.socket, listener: socket.socket) -> int | None:
    """The request's command in a fork; its pid, sent to the client too. None for a request refused (another
    user's, or not a request: the engine goes on serving)."""
    connection.settimeout(REQUEST_SECONDS)
    fds: list[int] = []
    try:
        if _peer_uid(connection) != os.getuid():
            _log("refused: a process of another user")
            return None
        message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 3)
        request = _request(connection, message, fds)
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                _run(connection, request, fds)
            finally:
                os._exit(1)  # whatever happened in the run, the fork never goes back to the engine's loop
        with suppress(OSError):  # a client gone already: its run sees the connection closed and ends
            connection.sendall(HEADER.pack(pid))
        return pid  # reaped either way
    except (OSError, ValueError, KeyError) as error:
        _log(f"refused: {error!r}")
        return None
    finally:
        for fd in fds:
            os.close(fd)


def _request(connection: socket.socket, message: bytes, fds: list[int]) -> dict:
    """The command line, folder and environment sent with the caller's three file descriptors."""
    if len(fds) != 3 or len(message) < HEADER.size:
        raise ValueError("a request comes with stdin, stdout and stderr")
    size = HEADER.unpack(message[: HEADER.size])[0]
    body = receive(connection, size, message[HEADER.size :])
    if body is None:
        raise ValueError("the request ended early")
    request = json.loads(body)
    return {"argv": list(request["argv"]), "cwd": str(request["cwd"]), "env": dict(request["env"])}


def _peer_uid(connection: socket.socket) -> int:
    """The uid of the process at the other end (Linux ``SO_PEERCRED``: pid, uid, gid)."""
    creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder)


def _run(connection: socket.socket, request: dict, fds: list[int]) -> None:
    """In the fork: become the command, tell the client its exit code, then exit as a command does (its exit
    handlers, such as the Prefect server's lease, run) without unwinding into the engine's loop."""
    code, finished = 1, threading.Event()
    try:
        _become(request, fds)
        _watch_client(connection, finished)
        code = _command(request["argv"])
    finally:
        finished.set()
        with suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with suppress(OSError):
            connection.sendall(HEADER.pack(code))
            connection.shutdown(socket.SHUT_RDWR)
            connection.close()
    atexit._run_exitfuncs()
    os._exit(code)


def _become(request: dict, fds: list[int]) -> None:
    """The caller's terminal, signals as a command has them, folder, environment and command line."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    sys.stdout.reconfigure(line_buffering=True)  # the engine's was a log file's, block-buffered
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()  # the caller's, with the defaults the engine's modules set at their import (as the
    os.environ.update(DEFAULTS_SET, **request["env"], **{ENGINE_CHILD: "1"})  # caller's modules would)
    sys.argv = ["verbatims", *request["argv"]]


def _command(argv: list[str]) -> int:
    """The command's exit code; an error no command handles is printed as Python prints it, exit code 1."""
    from cli.main import app

    try:
        app(argv, prog_name="verbatims")
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1


def _watch_client(connection: socket.socket, finished: threading.Event) -> None:
    """The client sends nothing after its request: its connection closing before the run ends means it is gone
    (killed, its terminal closed), and the run ends as a command of that terminal would (SIGHUP)."""
    connection.settimeout(None)

    def watch() -> None:
        with suppress(OSError):
            while connection.recv(1):
                pass
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=watch, name="client-watch", daemon=True).start()


def main() -> None:
    """``python -m cli.resident_engine KEY IDLE_SECONDS PREFECT_SERVER_FOLDER``"""
    serve(sys.argv[1], float(sys.argv[2]), Path(sys.argv[3]) if sys.argv[3] else None)


if __name__ == "__main__":
    main()
