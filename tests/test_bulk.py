"""Bulk corrections (many units, one event, one undo) and the units most like one, on SQLite and PostgreSQL."""

import numpy as np
import pytest

from pipeline.errors import InputError
from review.corrections import ReviewError, StaleViewError, UnknownItemError, correct, history, load_state
from review.similar import most_similar


def _two_themes(state):
    """The two largest machine themes other than "Autres"."""
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    return sizes[0][1], sizes[1][1]


def test_a_bulk_move_is_one_event_and_one_undo_puts_every_unit_back(recorded_run):
    store, run = recorded_run
    before = load_state(store, run)
    a, b = _two_themes(before)
    units = [u for u in before.members(a) if b not in before.labels[u]][:20]
    assert len(units) == 20
    event = correct(store, run, "alice", "bulk", seen=0, operation="move", units=units, to=b, **{"from": a})
    moved = load_state(store, run)
    assert [e.action for e in history(store, run)] == ["bulk"] and moved.version == event.seq == 1
    for unit in units:  # each left a for b, its other themes kept, and counts as reviewed
        assert moved.labels[unit] == [b if t == a else t for t in before.labels[unit]] and unit in moved.reviewed
    assert set(moved.members(a)) == set(before.members(a)) - set(units)
    assert event.touched == [f"unit:{u}" for u in units]
    assert moved.snapshot(event.touched) == event.after and before.snapshot(event.touched) == event.before

    undo = correct(store, run, "alice", "undo", seen=1)
    back = load_state(store, run)
    assert undo.payload == {"event": 1} and [e.action for e in history(store, run)] == ["bulk", "undo"]
    assert back.labels == before.labels and back.reviewed == before.reviewed


def test_add_confirm_and_off_topic_in_bulk(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = [u for u in state.members(a) if len(state.labels[u]) == 1][:9]
    correct(store, run, "alice", "bulk", operation="add", units=units[:3], to=b)
    correct(store, run, "alice", "bulk", operation="confirm", units=units[3:6])
    correct(store, run, "alice", "bulk", operation="off_topic", units=units[6:])
    after = load_state(store, run)
    assert all(after.labels[u] == [a, b] for u in units[:3])
    assert all(after.labels[u] == [a] for u in units[3:6]) and set(units[:6]) <= after.reviewed
    assert set(units[6:]) <= after.off_topic and all(after.labels[u] == [] for u in units[6:])
    correct(store, run, "alice", "undo")  # the off-topic three only: the bulk before stands
    again = load_state(store, run)
    assert all(again.labels[u] == [a] for u in units[6:]) and not set(units[6:]) & again.off_topic
    assert all(again.labels[u] == [a, b] for u in units[:3])


def test_a_bulk_on_a_stale_view_is_refused_whole(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = state.members(a)[:20]
    correct(store, run, "alice", "move", unit=units[7], to=b, seen=0)
    with pytest.raises(StaleViewError, match=units[7]):  # one unit of twenty changed since bob's view
        correct(store, run, "bob", "bulk", seen=0, operation="confirm", units=units)
    assert [e.action for e in history(store, run)] == ["move"]
    assert not set(units) - {units[7]} & load_state(store, run).reviewed  # none of the others was confirmed
    correct(store, run, "bob", "bulk", seen=0, operation="confirm", units=units[8:])  # not alice's unit: no conflict
    assert set(units[8:]) <= load_state(store, run).reviewed


def test_a_bulk_under_a_later_correction_cannot_be_undone_before_it(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = state.members(a)[:5]
    bulk = correct(store, run, "alice", "bulk", operation="move", units=units, to=b)
    correct(store, run, "bob", "move", unit=units[2], to=a)
    with pytest.raises(ReviewError, match=f"impossible d'annuler #{bulk.seq}.*#2 \\(déplacement par bob\\)"):
        correct(store, run, "alice", "undo", event=bulk.seq)


def test_a_bulk_that_cannot_apply_to_every_unit_saves_nothing(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = state.members(a)[:4]
    correct(store, run, "alice", "add", unit=units[1], theme=b)
    refusals = [
        ({"operation": "add", "units": units, "to": b}, ReviewError, f"en lot impossible pour 1 idée sur 4 : .*{units[1]}"),
        ({"operation": "move", "units": units, "to": a}, ReviewError, "4 idées sur 4 : .*déjà dans le thème .*et 1 de plus"),
        ({"operation": "move", "units": units}, ReviewError, "déplacement en lot : indiquez « to »"),
        ({"operation": "move", "units": units, "to": "t-nope"}, UnknownItemError, "thème inconnu « t-nope »"),
        ({"operation": "confirm", "units": [*units, "R999#9"]}, UnknownItemError, "idée inconnue « R999#9 »"),
        ({"operation": "confirm", "units": []}, ReviewError, "confirmation en lot : indiquez une ou plusieurs idées"),
        ({"operation": "split", "units": units}, ReviewError, "« operation » n'est pas valide"),
    ]
    for payload, error, message in refusals:
        with pytest.raises(error, match=message):
            correct(store, run, "alice", "bulk", **payload)
    assert [e.action for e in history(store, run)] == ["add"]


def test_most_similar_are_the_closest_by_cosine_within_the_theme(recorded_run, sample_vectors, sample_clean):
    store, run = recorded_run
    state = load_state(store, run)
    a, _ = _two_themes(state)
    ids = [u.unit_id for u in sample_clean.units]
    unit, chosen = state.members(a)[0], state.members(a)[1:4]
    found = most_similar(store, run, unit, 20, theme=a, exclude=chosen)
    assert len(found) == 20 and set(found) <= set(state.members(a)) and not {unit, *chosen} & set(found)
    closeness = {u: float(sample_vectors[ids.index(u)] @ sample_vectors[ids.index(unit)]) for u in state.members(a)}
    rest = sorted((u for u in closeness if u not in {unit, *chosen}), key=lambda u: -closeness[u])
    assert found == rest[:20]  # the closest in the theme, closest first
    anywhere = most_similar(store, run, unit, 20)
    others = [closeness.get(u, float(sample_vectors[ids.index(u)] @ sample_vectors[ids.index(unit)])) for u in anywhere]
    assert others == sorted(others, reverse=True) and min(others) >= np.median(list(closeness.values()))
    with pytest.raises(UnknownItemError, match="idée inconnue"):
        most_similar(store, run, "R999#9")
    with pytest.raises(InputError, match="n doit être compris entre 1 et 500"):
        most_similar(store, run, unit, 0)
