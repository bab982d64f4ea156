"""Prefect flows over the ``pipeline`` library, and the ``verbatims`` command line.

Prefect reads its settings once, when it is first imported, so ours are set here, before any flow module
imports it. Each is only a default: an analyst's own environment wins.
"""

import os

from pipeline.cache import cache_dir

# Prefect's telemetry write raced its own temporary server's SQLite ("database is locked" traceback).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's 20 s to start its temporary server ran out on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Stage results beside our content caches, so that `make clean-cache` clears both and a failed run resumes.
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str((cache_dir() / "prefect-results").resolve()))
