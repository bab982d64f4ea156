"""The latest ranked copy of each run: ranking a reviewed run is slow, and pages ask for it at every click."""

from __future__ import annotations

import threading

from sqlalchemy import select

from review.runs import ReviewedRun, reviewed_run
from review.store import EventRow, Store


class RankedRuns:
    """One ranked copy per run, rebuilt when a correction made a newer version (older copies are dropped)."""

    def __init__(self, store: Store):
        self.store = store
        self._copies: dict[str, tuple[int, ReviewedRun]] = {}  # run -> its latest version seen, ranked
        self._lock = threading.Lock()

    def get(self, run_id: str) -> ReviewedRun:
        with self.store.session() as session:
            self.store.run(session, run_id)  # an unknown run raises NotFoundError
            version = session.scalar(select(EventRow.seq).where(EventRow.run_id == run_id).order_by(EventRow.seq.desc()))
        with self._lock:
            if run_id not in self._copies or self._copies[run_id][0] != (version or 0):
                self._copies[run_id] = (version or 0, reviewed_run(self.store, run_id))
            return self._copies[run_id][1]
