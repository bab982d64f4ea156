"""The web's ranked copy of a run is rebuilt after a correction and after an erasure made anywhere (issue 18: a
respondent erased by the command line stayed on a running server's pages)."""

import pytest

from review.corrections import correct, load_state
from review.store import ErasureRow
from web.ranked import RankedRuns


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_copy_is_kept_until_the_run_is_corrected_or_something_is_erased(recorded_run):
    store, run = recorded_run
    ranked = RankedRuns(store)
    first = ranked.get(run)
    assert ranked.get(run) is first  # nothing changed: the same copy
    with store.session() as session:  # another process erased a respondent: the log says so, no event does
        session.add(ErasureRow(by="ana", kind="respondent", subject_sha256="0" * 64, removed={"units": 1}))
    second = ranked.get(run)
    assert second is not first and ranked.get(run) is second
    state = load_state(store, run)
    unit = next(iter(state.labels))
    correct(store, run, "ana", "off_topic", unit=unit, seen=state.version)
    assert ranked.get(run) is not second
