"""The units of a run closest in meaning to one of them: a reviewer who finds one misfiled answer selects the
answers like it in one click, to correct them together.

Closeness is the cosine of the units' sentence vectors, the ones the run was analysed with (unit-normalised,
read back from the embedding cache: only a text never embedded before costs a model call).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from pipeline.embed import embed, load_embedder
from pipeline.errors import InputError
from pipeline.messages import say
from review.actions.checks import known_theme, known_unit
from review.corrections import load_state
from review.runs import load_run
from review.store import Store

MAX_SIMILAR = 500  # a page selects a screenful, not the run


def most_similar(
    store: Store, run_id: str, unit_id: str, n: int = 20, theme: str | None = None, exclude: Collection[str] = ()
) -> list[str]:
    """The ids of the ``n`` units closest to ``unit_id``, closest first (the run's order among equals): never the
    unit itself nor those in ``exclude`` (already selected); with ``theme``, only among that theme's units now."""
    if not 1 <= n <= MAX_SIMILAR:
        raise InputError(say("similar.n", max=MAX_SIMILAR))
    state = load_state(store, run_id)
    known_unit(state, unit_id)
    allowed = set(state.members(known_theme(state, theme))) if theme else None
    stored = load_run(store, run_id)
    ids = [u.unit_id for u in stored.units]
    vectors, _ = embed([u.text for u in stored.units], load_embedder(stored.run.embedder))
    closeness = vectors @ vectors[ids.index(unit_id)]
    skip = {unit_id, *exclude}
    candidates = [i for i, u in enumerate(ids) if u not in skip and (allowed is None or u in allowed)]
    order = np.argsort(-closeness[candidates], kind="stable")[:n]
    return [ids[candidates[i]] for i in order]
