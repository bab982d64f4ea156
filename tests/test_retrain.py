"""Retraining from reviews, model promotion and rollback, the next wave, and carry-over to a new analysis."""

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.rank import rank_themes
from review.carryover import CARRIED_NETS, carry_themes, drop_off_topic, reviewed_labels
from review.classify import PROPOSED_PREFIX, add_share_changes, classify_units
from review.corrections import correct, load_state
from review.model_registry import list_models, load_model, promote, promoted_version, rollback
from review.queue import review_queue
from review.retrain import retrain
from review.runs import reviewed_shares
from review.store import Store


@pytest.fixture
def store(tmp_path):
    """SQLite only here: the store itself is tested on both databases in test_store and test_review."""
    return Store(str(tmp_path / "review.sqlite"))


def review_like_the_gold(store, run, gold, n_items):
    """A reviewer working down the queue: confirms right themes, moves wrong ones to the coded theme."""
    state = load_state(store, run)
    _, items = review_queue(store, run, limit=n_items)
    done = 0
    for item in items:
        coded = gold.get(item.unit_id.split("#")[0], set())
        if item.theme_id in coded:
            correct(store, run, "gold", "confirm", unit=item.unit_id)
        elif len(coded) == 1 and (target := next(iter(coded))) in state.themes:
            correct(store, run, "gold", "move", unit=item.unit_id, to=target)
        else:
            continue
        done += 1
    return done


@pytest.fixture
def reviewed(recorded_run, gold):
    store, run = recorded_run
    review_like_the_gold(store, run, gold, 120)
    return store, run


def test_first_model_is_trained_scored_and_promoted(reviewed, codebook):
    store, run = reviewed
    report = retrain(store, codebook=codebook, by="tester")
    assert report.version == "v1" and report.promoted and report.previous_version is None
    assert report.n_items >= 60
    assert 0.3 <= report.f1 <= 1.0, report.summary  # far above chance for 10+ themes
    rows, promoted = list_models(store)
    assert promoted == "v1" and rows[0].metrics["cv_macro_f1"] == round(report.f1, 4)
    assert rows[0].runs == [run] and len(rows[0].training_sha256) == 64
    _, saved = load_model(store)
    assert {"sponsorship", "moyens", "embarquer"} <= set(saved.classifier.classes_)


def test_retraining_on_the_same_reviews_is_not_worse_and_is_promoted(reviewed, codebook):
    store, _ = reviewed
    first = retrain(store, codebook=codebook)
    second = retrain(store, codebook=codebook)
    assert second.compared_on == "its training-time cross-validation"
    assert second.new_f1_compared == round(first.f1, 4) and second.promoted
    assert promoted_version(store) == "v2"


def test_the_previous_model_is_judged_on_reviews_it_never_saw(reviewed, codebook, gold):
    store, run = reviewed
    retrain(store, codebook=codebook)
    more = review_like_the_gold(store, run, gold, 60)
    assert more >= 10
    report = retrain(store, codebook=codebook)
    assert report.compared_on.endswith("units reviewed since it was trained")
    assert report.promoted == (report.new_f1_compared >= report.previous_f1)


def test_promote_and_rollback_go_back_step_by_step(reviewed):
    store, _ = reviewed
    retrain(store)
    retrain(store)
    retrain(store)
    assert promoted_version(store) == "v3"
    assert rollback(store, "admin") == "v2"
    assert rollback(store, "admin") == "v1"
    with pytest.raises(InputError, match="no earlier promoted model"):
        rollback(store, "admin")
    promote(store, "v3", "admin")
    assert promoted_version(store) == "v3"
    with pytest.raises(InputError, match="already the promoted one"):
        promote(store, "v3", "admin")
    with pytest.raises(InputError, match="unknown model 'v9'"):
        promote(store, "v9", "admin")


def test_retrain_without_reviews_says_what_to_do(recorded_run):
    store, _ = recorded_run
    with pytest.raises(InputError, match="no reviewed run yet"):
        retrain(store)


def test_next_wave_keeps_known_themes_and_proposes_new_ones(
    reviewed, codebook, sample_clean, sample_vectors, sample_dataset
):
    store, run = reviewed
    retrain(store, codebook=codebook)
    row, model = load_model(store)
    result, keep, off_topic = classify_units(model, row.version, sample_clean.units, sample_vectors)
    assert len(keep) + len(off_topic) == len(sample_clean.units)
    known = {a.theme_id for a in result.assignments} & set(model.classifier.classes_)
    assert {"sponsorship", "moyens", "embarquer"} <= known
    proposed = [t for t in result.themes if t.proposed]
    assert all(t.theme_id.startswith("p-") and t.label.startswith(PROPOSED_PREFIX) for t in proposed)
    assert result.parameters["unsure_units"] == sum(1 for a in result.assignments if a.theme_id.startswith(("p-", "autres")))
    units = [sample_clean.units[i] for i in keep]
    themes = rank_themes(result.themes, result.assignments, units, sample_vectors[keep], sample_dataset.responses, [])
    previous = reviewed_shares(store, run)
    add_share_changes(themes, previous)
    for theme in themes:
        if theme.theme_id in previous and not theme.proposed:
            assert theme.change_pts == round(100 * (theme.share - previous[theme.theme_id]), 1)
    sponsorship = next(t for t in themes if t.theme_id == "sponsorship")
    assert abs(sponsorship.change_pts) < 10  # the same answers: the share barely moves


def test_a_new_analysis_carries_reviewed_labels_over(recorded_run, sample_clean, sample_clustered):
    store, run = recorded_run
    state = load_state(store, run)
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    renamed, target = sizes[0][1], sizes[1][1]
    moved, dropped = state.members(renamed)[0], state.members(renamed)[1]
    correct(store, run, "alice", "rename", theme=renamed, label="Nom donné en revue")
    correct(store, run, "alice", "move", unit=moved, to=target)
    correct(store, run, "alice", "off_topic", unit=dropped)
    # next wave: the same texts under new ids and in another order, and clusters under new numbers
    units = [type(u)("new-" + u.unit_id, u.respondent_id, u.text, u.lemmas) for u in reversed(sample_clean.units)]
    carried = reviewed_labels(store, units)
    keep, excluded = drop_off_topic(units, carried)
    assert [e.text for e in excluded] == [next(u.text for u in sample_clean.units if u.unit_id == dropped)]
    units = [units[i] for i in keep]
    by_text = {u.text: u for u in units}
    renumbered = type(sample_clustered)(
        [
            type(t)("x" + t.theme_id, "machine " + t.label, t.keywords, coherence=i + 0.5, mixed=i % 2 == 1)
            for i, t in enumerate(sample_clustered.themes)
        ],
        [
            type(a)(by_text[u.text].unit_id, "x" + a.theme_id, a.score)
            for a, u in zip(sample_clustered.assignments, sample_clean.units, strict=True)
            if u.text in by_text
        ],
        {},
    )
    result, stats = carry_themes(renumbered, units, carried)
    labels = {t.theme_id: t.label for t in result.themes}
    assert labels[renamed] == "Nom donné en revue"
    assert stats["themes_matched"] >= len(state.themes) - 2
    flags = {(t.coherence, t.mixed) for t in result.themes if t.coherence is not None}
    assert flags == {(i + 0.5, i % 2 == 1) for i in range(len(sample_clustered.themes))}  # the refiner's, kept
    theme_of = {a.unit_id: a.theme_id for a in result.assignments}
    moved_text = next(u.text for u in sample_clean.units if u.unit_id == moved)
    assert theme_of[by_text[moved_text].unit_id] == target
    assert np.mean([t.startswith("x") for t in theme_of.values()]) < 0.1  # nearly all themes matched by content


def test_a_new_analysis_keeps_a_renamed_net(recorded_run, sample_clean, sample_clustered):
    store, run = recorded_run
    state = load_state(store, run)
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    a, b, alone = sizes[0][1], sizes[1][1], sizes[2][1]
    net = correct(store, run, "alice", "new_net", themes=[a, b], label="Filet").payload["net"]
    correct(store, run, "alice", "rename_net", net=net, label="Filet renommé")
    units = [type(u)("new-" + u.unit_id, u.respondent_id, u.text, u.lemmas) for u in sample_clean.units]
    renumbered = type(sample_clustered)(
        [type(t)("x" + t.theme_id, t.label, t.keywords) for t in sample_clustered.themes],
        [type(a)("new-" + a.unit_id, "x" + a.theme_id, a.score) for a in sample_clustered.assignments],
        {},
    )
    result, stats = carry_themes(renumbered, units, reviewed_labels(store, units))
    nets = {t.theme_id: (t.net_id, t.net_label) for t in result.themes}
    assert nets[a] == nets[b] == (net, "Filet renommé") and nets[alone] == (alone, state.themes[alone].label)
    assert result.parameters[CARRIED_NETS][a] == result.parameters[CARRIED_NETS][b] == "Filet renommé"
    assert stats["themes_in_reviewed_nets"] >= 3
    result, _ = carry_themes(renumbered, units, reviewed_labels(store, units[:0]))  # nothing reviewed: no net named
    assert CARRIED_NETS not in result.parameters


def test_a_model_trained_after_a_net_rename_classifies_a_wave_in_that_net(reviewed, codebook, sample_clean, sample_vectors):
    store, run = reviewed
    net = correct(store, run, "alice", "new_net", themes=["sponsorship", "embarquer"], label="Direction").payload["net"]
    correct(store, run, "alice", "rename_net", net=net, label="Engagement de la direction")
    retrain(store, codebook=codebook)
    row, model = load_model(store)
    assert model.nets()["sponsorship"] == (net, "Engagement de la direction")
    result, _, _ = classify_units(model, row.version, sample_clean.units, sample_vectors)
    nets = {t.theme_id: (t.net_id, t.net_label) for t in result.themes}
    assert nets["sponsorship"] == nets["embarquer"] == (net, "Engagement de la direction")
    assert model.named_nets()["embarquer"] == "Engagement de la direction"
    assert nets["moyens"] == ("moyens", model.theme_labels["moyens"])  # its own net, as reviewed


def test_a_model_saved_before_the_layout_moved_still_loads(reviewed, monkeypatch):
    """Models trained before issue 14 pickled their classes as pipeline.registry.SavedModel,
    pipeline.train.ThemeClassifier and pipeline.cluster.ThemeFeatures: write one so, and load it."""
    import sys
    import types
    from pathlib import Path

    import joblib

    from pipeline.themes import ThemeFeatures
    from review.model_registry import SavedModel
    from review.train import ThemeClassifier

    store, _ = reviewed
    report = retrain(store)
    row, model = load_model(store, report.version)
    for cls, module in (
        (SavedModel, "pipeline.registry"),
        (ThemeClassifier, "pipeline.train"),
        (ThemeFeatures, "pipeline.cluster"),
    ):
        old = types.ModuleType(module)  # where the class lived: pickle records and checks this path
        setattr(old, cls.__name__, cls)
        monkeypatch.setitem(sys.modules, module, old)
        monkeypatch.setattr(cls, "__module__", module)
    joblib.dump(model, row.path)
    monkeypatch.undo()  # the old modules are gone again, as after an upgrade
    assert b"pipeline.train" in Path(row.path).read_bytes()
    _, loaded = load_model(store, report.version)
    assert type(loaded) is SavedModel and type(loaded.classifier) is ThemeClassifier
    assert loaded.theme_labels == model.theme_labels and loaded.training_keys == model.training_keys
