"""`verbatims serve` ranks the latest run before it listens, so that the first run page does not wait for the
language models (issue 17: 21.9 s); bench/first_page.py times the pages of a started server."""

import logging
import time

from review.store import Store
from web.ranked import RankedRuns

log = logging.getLogger(__name__)


def test_warm_up_ranks_the_latest_run_so_the_first_page_reads_it_from_memory(recorded_run):
    store, run = recorded_run
    ranked = RankedRuns(store)
    start = time.perf_counter()
    assert ranked.warm_up() == run
    warmed = time.perf_counter() - start
    start = time.perf_counter()
    first = ranked.get(run)
    log.info("warm-up %.2f s, first get after it %.3f s", warmed, time.perf_counter() - start)
    assert first is ranked.get(run)  # the copy ranked at start-up, not a new ranking


def test_warm_up_of_a_store_without_runs_does_nothing(tmp_path):
    assert RankedRuns(Store(str(tmp_path / "empty.sqlite"))).warm_up() is None
