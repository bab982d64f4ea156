"""The review queue's items, its kept model and its progress, on the sample recorded in SQLite and PostgreSQL."""

import time

import numpy as np
import pytest
from typer.testing import CliRunner

from review import queue_run
from review.corrections import correct, load_state
from review.guard import MIN_UNITS_PER_THEME, MIN_UNITS_TOTAL
from review.queue import MIN_REVIEWED_TO_LEARN, queue_progress, queue_view, refit_detached, review_queue
from review.queue_model import ModelKeeper
from review.runs import load_run


@pytest.fixture
def keeper(monkeypatch, tmp_path):
    """A process of its own: no model in memory, and a cache folder no other test has filled."""
    fresh = ModelKeeper()
    monkeypatch.setattr("review.queue.KEEPER", fresh)
    monkeypatch.setattr(queue_run, "cache_dir", lambda: tmp_path / "cache")
    return fresh


def _review(store, run, items) -> None:
    """Confirm every other unit, move the rest to their runner-up: reviews that change themes too."""
    for n, item in enumerate(items):
        if n % 2 and item.runner_up_id:
            correct(store, run, "alice", "move", unit=item.unit_id, to=item.runner_up_id)
        else:
            correct(store, run, "alice", "confirm", unit=item.unit_id)


def _learning(store, run):
    """The sample with enough reviews for the queue to learn."""
    _, first = review_queue(store, run, limit=MIN_REVIEWED_TO_LEARN + 4)
    _review(store, run, first)
    return first


def test_an_item_shows_the_whole_answer_the_segments_and_every_theme(recorded_run, sample_dataset, keeper):
    store, run = recorded_run
    _, items = review_queue(store, run, limit=1000)  # every unit of the sample
    units = load_run(store, run).units
    segments = {r.respondent_id: r.segments for r in sample_dataset.responses}
    state = load_state(store, run)
    split = 0
    for item in items:
        respondent = item.unit_id.split("#")[0]
        own = [u.text for u in units if u.respondent_id == respondent]
        assert item.answer == " ".join(own) and item.answer[item.unit_start : item.unit_end] == item.text
        split += len(own) > 1
        assert item.segments == segments[respondent] and item.segments
        assert item.probability is None and item.neighbours == ()  # nothing reviewed, nothing learnt
        assert {t for t, _, _ in item.theme_choices} == set(state.themes)
        chances = [c for _, _, c in item.theme_choices]
        assert chances == sorted(chances, reverse=True) and all(-1 <= c <= 1 for c in chances)
        lemmas = f" {next(u.lemmas for u in units if u.unit_id == item.unit_id)} "
        assert all(r in state.themes[item.theme_id].keywords and f" {r} " in lemmas for r in item.reasons)
    assert split >= 5  # answers of several units: the unit is a part of the answer shown
    assert sum(bool(i.reasons) for i in items) >= len(items) // 2
    # The machine put each unit in the theme it is most similar to (a near tie may go either way).
    assert sum(i.theme_choices[0][0] == i.theme_id for i in items) >= 0.6 * len(items)


def test_neighbours_are_the_nearest_reviewed_units_with_the_themes_reviewers_gave(recorded_run, sample_vectors, keeper):
    store, run = recorded_run
    _, first = review_queue(store, run, limit=12)
    _review(store, run, first[:10])
    state = load_state(store, run)
    reviewed = sorted(state.reviewed)
    _, items = review_queue(store, run, limit=20)
    texts = {u.unit_id: u.text for u in load_run(store, run).units}
    row = {u: i for i, u in enumerate(texts)}
    for item in items:
        assert len(item.neighbours) == 3 and {n.unit_id for n in item.neighbours} <= set(reviewed)
        similarity = {u: float(sample_vectors[row[u]] @ sample_vectors[row[item.unit_id]]) for u in reviewed}
        nearest = sorted(reviewed, key=lambda u: -similarity[u])[:3]
        assert [n.unit_id for n in item.neighbours] == nearest
        for n in item.neighbours:
            assert n.text == texts[n.unit_id] and n.similarity == pytest.approx(similarity[n.unit_id], abs=1e-3)
            assert n.theme_ids == tuple(state.labels[n.unit_id])
            assert n.theme_labels == tuple(state.themes[t].label for t in n.theme_ids)
    moved = [i for n, i in enumerate(first[:10]) if n % 2 and i.runner_up_id]
    shown = {n.unit_id: n.theme_ids[0] for i in items for n in i.neighbours}
    assert any(shown.get(i.unit_id) == i.runner_up_id for i in moved)  # a moved neighbour shows its new theme


def test_once_it_learns_an_item_has_the_model_probability_and_the_words_that_weighed(recorded_run, keeper):
    store, run = recorded_run
    _learning(store, run)
    view = queue_view(store, run, limit=40)
    assert view.learnt_from >= MIN_REVIEWED_TO_LEARN and view.refitted
    units = {u.unit_id: u for u in load_run(store, run).units}
    for item in view.items:
        chances = {t: c for t, _, c in item.theme_choices}
        assert item.probability == chances[item.theme_id] and 0 <= item.probability <= 1
        assert item.runner_up_id == next(t for t, _, _ in item.theme_choices if t != item.theme_id)
        words = units[item.unit_id].lemmas.split()
        assert all(set(r.split()) <= set(words) for r in item.reasons)
    # the least sure units, long or short (doubt alone): 31 of these 40 have words that weighed on the sample
    assert sum(bool(i.reasons) for i in view.items) >= 0.75 * len(view.items)
    assert 0 < view.progress.held_out_f1 <= 1


def test_a_call_with_no_new_review_fits_nothing_in_this_process_or_the_next(recorded_run, keeper, monkeypatch):
    store, run = recorded_run
    _learning(store, run)
    first = queue_view(store, run, limit=10)
    assert first.refitted and keeper.fits == 1
    again = queue_view(store, run, limit=10)
    assert not again.refitted and keeper.fits == 1 and again.items == first.items
    next_process = ModelKeeper()
    monkeypatch.setattr("review.queue.KEEPER", next_process)
    assert queue_view(store, run, limit=10).items == first.items and next_process.fits == 0  # read back from disk


def test_new_reviews_are_learnt_by_the_next_call(recorded_run, sample_vectors, keeper):
    store, run = recorded_run
    _learning(store, run)
    before = queue_view(store, run, limit=20)
    state = load_state(store, run)
    ids = [u.unit_id for u in load_run(store, run).units]
    open_rows = [i for i, u in enumerate(ids) if u not in state.reviewed and u not in state.off_topic]
    target, nearest = _closer_than_its_neighbours(before.items, ids, open_rows, sample_vectors)
    theme = next(t for t, _, _ in target.theme_choices if t != state.labels[ids[nearest]][0])
    correct(store, run, "alice", "move", unit=ids[nearest], to=theme)
    after = queue_view(store, run, limit=10_000)  # every open unit: the refitted model orders them anew
    assert after.refitted and after.learnt_from == before.learnt_from + 1 and keeper.fits == 2
    shown = {i.unit_id: i for i in after.items}[target.unit_id]
    assert (shown.neighbours[0].unit_id, shown.neighbours[0].theme_ids) == (ids[nearest], (theme,))
    assert shown.theme_choices != target.theme_choices  # the refitted model's probabilities
    assert ids[nearest] not in {i.unit_id for i in after.items}
    assert after.progress.reviewed == before.progress.reviewed + 1 and after.progress.open == before.progress.open - 1


def _closer_than_its_neighbours(items, ids, open_rows, vectors):
    """A listed item and the open unit nearest to it, nearer than any unit reviewed so far."""
    for item in items:
        row = ids.index(item.unit_id)
        others = [r for r in open_rows if r != row]
        similarity = vectors[others] @ vectors[row]
        if similarity.max() > item.neighbours[0].similarity + 0.01:
            return item, others[int(similarity.argmax())]
    raise AssertionError("no listed unit has an open unit nearer than its reviewed neighbours")


def test_after_new_reviews_a_server_answers_from_the_last_model_and_refits_once_behind(recorded_run, keeper):
    store, run = recorded_run
    first = _learning(store, run)
    learnt = queue_view(store, run, limit=5).learnt_from
    _, more = review_queue(store, run, limit=3)
    _review(store, run, more)
    stale = queue_view(store, run, limit=5, fresh=False)
    assert stale.learnt_from == learnt and not stale.refitted  # answered at once, from the model it had
    assert not {i.unit_id for i in stale.items} & {i.unit_id for i in more + first}  # reviewed units still leave
    current = queue_view(store, run, limit=5, fresh=True)  # waits for the fit under way, does not start another
    assert current.learnt_from == learnt + 3 and keeper.fits == 2


def test_a_command_after_new_reviews_answers_from_the_last_model_and_a_detached_process_fits_the_next(
    recorded_run, monkeypatch, tmp_path
):
    from pipeline import settings

    store, run = recorded_run
    # the detached process finds the cache through the settings, as a command's --cache flag sets them
    monkeypatch.setattr(settings, "_current", settings.current().with_flags(cache=tmp_path / "cache"))
    monkeypatch.setattr("review.queue.KEEPER", ModelKeeper())
    _learning(store, run)
    learnt = queue_view(store, run, limit=5).learnt_from
    _, more = review_queue(store, run, limit=3)
    _review(store, run, more)
    monkeypatch.setattr("review.queue.KEEPER", command := ModelKeeper())  # a new command: nothing in memory
    stale = queue_view(store, run, limit=5, fresh=False, in_thread=False)
    assert (stale.learnt_from, stale.behind, stale.refitted, command.fits) == (learnt, 3, False, 0)
    refit_detached(store, run)
    deadline = time.monotonic() + 180
    while (view := queue_view(store, run, limit=5, fresh=False, in_thread=False)).behind and time.monotonic() < deadline:
        time.sleep(0.5)
    assert view.learnt_from == learnt + 3 and command.fits == 0  # fitted and saved by the other process


def test_progress_counts_reviews_and_what_a_retrain_still_needs(recorded_run, keeper):
    store, run = recorded_run
    start = queue_progress(store, run)
    assert (start.reviewed, start.until_retrain, start.held_out_f1) == (0, MIN_UNITS_TOTAL, None)
    _, items = review_queue(store, run, limit=12)
    _review(store, run, items)
    state = load_state(store, run)
    themes = [t for u in state.reviewed for t in state.labels[u]]
    per_theme_short = sum(max(0, MIN_UNITS_PER_THEME - themes.count(t)) for t in set(themes))
    progress = queue_progress(store, run)
    assert (progress.reviewed, progress.open) == (12, start.open - 12)
    assert progress.until_retrain == max(MIN_UNITS_TOTAL - 12, per_theme_short) and progress.held_out_f1 is None
    _learning(store, run)
    view = queue_view(store, run, limit=5)
    assert queue_progress(store, run) == view.progress and view.progress.reviewed == 12 + MIN_REVIEWED_TO_LEARN + 4
    assert view.progress.held_out_f1 is not None


def test_the_command_shows_items_and_progress_in_french(recorded_run, keeper, monkeypatch, tmp_path):
    from cli.main import app
    from pipeline import settings

    store, run = recorded_run
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the command on one database is enough")
    # --db sets the process's settings: undone after; the cache is the keeper's, for the detached refit too
    monkeypatch.setattr(settings, "_current", settings.current().with_flags(cache=tmp_path / "cache"))
    _learning(store, run)
    db = store.url.removeprefix("sqlite:///")
    at_once = CliRunner().invoke(app, ["review", "queue", run, "--limit", "2", "--db", db])
    assert "la file apprend de vos 44 revues en arrière-plan" in at_once.output  # its first model: fitted elsewhere
    shown = CliRunner().invoke(app, ["review", "queue", run, "--limit", "2", "--wait", "--db", db])
    assert shown.exit_code == 0, shown.output
    head, first, second = shown.output.split("\n\n")
    assert f"l'analyse {run}, version " in head and "idées revues" in head and "F1 hors échantillon : 0," in head
    assert "modèle de la file réajusté sur 44 idées revues" in head
    assert first.split()[0] == queue_view(store, run, limit=1).items[0].unit_id
    assert "probabilité 0," in first and "revue proche (" in first and "thème : " in first
    again = CliRunner().invoke(app, ["review", "queue", run, "--limit", "2", "--db", store.url.removeprefix("sqlite:///")])
    assert "rien de nouveau depuis" in again.output
    _review(store, run, review_queue(store, run, limit=2)[1])
    later = CliRunner().invoke(app, ["review", "queue", run, "--limit", "2", "--db", store.url.removeprefix("sqlite:///")])
    assert "appris sur 44 idées revues ; il apprend vos 2 nouvelles revues en arrière-plan" in later.output


def test_vectors_are_kept_per_run_content(recorded_run, keeper, tmp_path):
    store, run = recorded_run
    loaded = queue_run.queue_run(store, run)
    assert queue_run.queue_run(store, run) is loaded  # in memory for the next request
    saved = list((tmp_path / "cache" / "queue").glob("*/vectors.npy"))
    assert len(saved) == 1 and np.array_equal(np.load(saved[0]), loaded.vectors)


def test_an_item_shows_the_other_themes_a_confirmation_keeps(
    store, sample_dataset, sample_clean, sample_vectors, codebook, keeper, tmp_path
):
    """A unit holding a code's label words carries that code too (pipeline.label_codes): the reviewer sees it."""
    from cli.review_commands import _queue_item
    from pipeline.analysis import Analysis
    from pipeline.manifest import InputInfo, Manifest, count
    from pipeline.nets import group_centres
    from review.runs import RunRecord, record_run

    coded = Analysis(codebook=codebook).find_themes(sample_clean.units, sample_vectors)
    info = InputInfo(file="sample.csv", sha256=sample_dataset.input_sha256, segment_columns=sample_dataset.segment_columns)
    counts = count(len(sample_dataset.responses), sample_clean.units, sample_clean.excluded, len(coded.themes))
    manifest = Manifest(run_id="run-coded", question=codebook.question, input=info, parameters={}, counts=counts)
    record_run(store, RunRecord(manifest, sample_dataset, sample_clean, coded, "use-multilingual", tmp_path))
    state = load_state(store, "run-coded")
    _, items = review_queue(store, "run-coded", limit=1000)
    twice = [i for i in items if len(state.labels[i.unit_id]) > 1]
    assert twice, "the sample has units carrying a further code"
    for item in items:
        assert [item.theme_id, *(t for t, _ in item.also)] == state.labels[item.unit_id]
        assert all(label == state.themes[t].label for t, label in item.also)
    shown = _queue_item(twice[0])
    assert f"aussi dans : {twice[0].also[0][0]} {twice[0].also[0][1]}" in shown
    # before the queue learns, a theme's similarity is to the units holding it as their main theme: those its words
    # added keep their own centre's pull out of it
    row = {u.unit_id: i for i, u in enumerate(sample_clean.units)}
    further = twice[0].also[0][0]
    main = [row[u] for u, labels in state.labels.items() if labels[:1] == [further] and u not in state.off_topic]
    centre = group_centres([main], sample_vectors)[0]
    similarity = dict((t, p) for t, _, p in twice[0].theme_choices)[further]
    assert similarity == pytest.approx(float(centre @ sample_vectors[row[twice[0].unit_id]]), abs=2e-4)
    correct(store, "run-coded", "alice", "confirm", unit=twice[0].unit_id)  # keeps every theme shown
    assert load_state(store, "run-coded").labels[twice[0].unit_id] == [twice[0].theme_id, *(t for t, _ in twice[0].also)]
