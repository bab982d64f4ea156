"""The shared Prefect server's process (``cli.prefect_server.LocalApi``): uvicorn, and a watchdog that ends it once
no command has used it for the idle time.

A command holds a lease file (``leases/<pid>``) while it uses the server. The watchdog drops the leases of commands
that are gone (even by ``kill -9``, which runs no exit handler) and, once none is left for ``idle`` seconds, takes
the lock that commands take to find the server, checks once more that none came, withdraws ``server.json`` and
asks uvicorn to stop (SIGTERM: a graceful shutdown), leaving for good if that takes too long.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

from cli.prefect_server import alive, locked

POLL_SECONDS = 0.5  # a command gone is noticed within half a second
GRACE_SECONDS = 5.0  # then uvicorn has this long to stop before the process exits anyway


def users(folder: Path) -> int:
    """Commands using the server now; the leases of those that ended without saying so are removed."""
    count = 0
    for lease in (folder / "leases").glob("*"):
        if lease.name.isdigit() and alive(int(lease.name)):
            count += 1
        else:
            with suppress(FileNotFoundError):
                lease.unlink()
    return count


def withdraw(folder: Path) -> bool:
    """Under the lock: True when no command uses the server, whose ``server.json`` is then removed (unless it
    names another server) so that no command finds it from now on."""
    with locked(folder):
        if users(folder):
            return False
        state = folder / "server.json"
        with suppress(OSError, ValueError):
            if json.loads(state.read_text())["pid"] == os.getpid():
                state.unlink()
        return True


def watch(folder: Path, idle: float) -> None:
    last_used = time.monotonic()  # the command that started it holds a lease already
    while True:
        time.sleep(POLL_SECONDS)
        if users(folder):
            last_used = time.monotonic()
        elif time.monotonic() - last_used >= idle and withdraw(folder):
            break
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(0)


def main() -> None:
    """``python -m cli.prefect_child STATE_FOLDER IDLE_SECONDS UVICORN_ARGS...``"""
    folder, idle = Path(sys.argv[1]), float(sys.argv[2])
    threading.Thread(target=watch, args=(folder, idle), name="idle-watchdog", daemon=True).start()
    from uvicorn.main import main as uvicorn

    uvicorn(sys.argv[3:], prog_name="uvicorn")


if __name__ == "__main__":
    main()
