"""The temporary Prefect server's process (``LocalApi``): uvicorn, and a watchdog that ends it with its command.

A command killed with ``kill -9`` runs no exit handler, so its server used to outlive it, re-parented to init and
holding its port and its SQLite file. Here a thread watches the parent's pid and, once the parent is gone, asks
uvicorn to stop (SIGTERM: a graceful shutdown) and leaves for good if that takes too long.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

POLL_SECONDS = 0.5  # a dead parent is noticed within half a second
GRACE_SECONDS = 5.0  # then uvicorn has this long to stop before the process exits anyway


def watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(0)


def main() -> None:
    """``python -m cli.prefect_child PARENT_PID UVICORN_ARGS...``"""
    parent = int(sys.argv[1])
    if os.getppid() != parent:  # the command died before this process even started
        return
    threading.Thread(target=watch, args=(parent,), name="parent-watchdog", daemon=True).start()
    from uvicorn.main import main as uvicorn

    uvicorn(sys.argv[2:], prog_name="uvicorn")


if __name__ == "__main__":
    main()
