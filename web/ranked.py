"""The latest ranked copy of each run: ranking a reviewed run is slow, and pages ask for it at every click."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from pipeline.errors import NotFoundError
from review.runs import ReviewedRun, reviewed_run
from review.store import ErasureRow, EventRow, Store


class RankedRuns:
    """One ranked copy per run, rebuilt when a correction made a newer version (older copies are dropped)."""

    def __init__(self, store: Store):
        self.store = store
        self._copies: dict[str, tuple[tuple[int, int], ReviewedRun]] = {}  # run -> (version, erasures) seen, ranked
        self._lock = threading.Lock()

    def forget(self, run_ids: list[str]) -> None:
        """Drop the ranked copies of these runs (erased or deleted data): the next page ranks them from the store."""
        with self._lock:
            for run_id in run_ids:
                self._copies.pop(run_id, None)

    def get(self, run_id: str) -> ReviewedRun:
        with self.store.reading() as session:
            self.store.run(session, run_id)  # an unknown run raises NotFoundError
            version = session.scalar(select(EventRow.seq).where(EventRow.run_id == run_id).order_by(EventRow.seq.desc()))
            # an erasure changes a run without a correction, maybe from another process (verbatims erase)
            erased = session.scalar(select(func.max(ErasureRow.erasure_id)))
        seen = (version or 0, erased or 0)
        with self._lock:
            if run_id not in self._copies or self._copies[run_id][0] != seen:
                self._copies[run_id] = (seen, reviewed_run(self.store, run_id))
            return self._copies[run_id][1]

    def warm_up(self) -> str | None:
        """Rank the latest run now, before the server answers: the first run page after start waited for spaCy's
        French model, BERTopic's imports and the lemma vocabulary (9.7 to 10.1 s on the sample here, 21.9 s in
        issue 17; cProfile of a 14.5 s one: 11.8 s of imports, 2.5 s of vocabulary, 0.2 s of ranking). Other runs
        then need only their own ranking. The run ranked, or None in a store with no run yet."""
        try:
            run_id = self.store.latest_run_id()
        except NotFoundError:
            return None
        self.get(run_id)
        return run_id
