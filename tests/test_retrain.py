"""Retraining from reviews, model promotion and rollback, the next wave, and carry-over to a new analysis."""

import re
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from fastapi.testclient import TestClient

from pipeline.errors import InputError
from pipeline.export import ALERTS
from pipeline.rank import rank_themes
from pipeline.records import Theme
from review.carryover import CARRIED_NETS, carry_themes, drop_off_topic, reviewed_labels
from review.classify import PROPOSED_PREFIX, add_share_changes, classify_units, drift_alerts, model_alerts
from review.corrections import OFF_TOPIC, correct, load_state
from review.drift import share_moves
from review.guard import MIN_UNITS_PER_THEME, MIN_UNITS_TOTAL, as_metrics, describe, shortfall
from review.model_registry import list_models, load_model, promote, promoted_version, rollback
from review.queue import review_queue
from review.retrain import retrain
from review.runs import reviewed_shares
from review.store import Store
from review.users import add_user
from web.app import create_app


@pytest.fixture
def store(tmp_path):
    """SQLite only here: the store itself is tested on both databases in test_store and test_review."""
    return Store(str(tmp_path / "review.sqlite"))


def review_like_the_gold(store, run, gold, n_items):
    """A reviewer working down the queue: confirms right themes, moves each wrong one (a unit may carry its
    nearest code and those whose label words it holds) to the coded theme."""
    state = load_state(store, run)
    _, items = review_queue(store, run, limit=n_items)
    done = 0
    for item in items:
        coded = gold.get(item.unit_id.split("#")[0], set())
        wrong = [t for t in state.labels[item.unit_id] if t not in coded]
        if not wrong:
            correct(store, run, "gold", "confirm", unit=item.unit_id)
        elif len(coded) == 1 and (target := next(iter(coded))) in state.themes:
            for theme in wrong:
                correct(store, run, "gold", "move", unit=item.unit_id, to=target, **{"from": theme})
        else:
            continue
        done += 1
    return done


# Queue items a reviewer works through on the sample before a model passes review.guard: 160 give 142 reviewed
# units, the rarest theme 12 (120 give 105, the rarest 9); with the queue's earlier order, fullest answers first,
# 160 gave 136 units, the rarest 8, and 120 left `formation` at 4 (counted with review_like_the_gold).
ENOUGH_REVIEWS = 160


@pytest.fixture
def reviewed(recorded_run, gold):
    store, run = recorded_run
    review_like_the_gold(store, run, gold, ENOUGH_REVIEWS)
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
    assert second.compared_on == "sa validation croisée à l'entraînement"
    assert second.new_f1_compared == round(first.f1, 4) and second.promoted
    assert promoted_version(store) == "v2"


def test_the_previous_model_is_judged_on_reviews_it_never_saw(reviewed, codebook, gold):
    store, run = reviewed
    retrain(store, codebook=codebook)
    more = review_like_the_gold(store, run, gold, 60)
    assert more >= 10
    report = retrain(store, codebook=codebook)
    assert report.compared_on.endswith("idées revues depuis son entraînement")
    assert report.promoted == (report.new_f1_compared >= report.previous_f1)


def test_promote_and_rollback_go_back_step_by_step(reviewed):
    store, _ = reviewed
    retrain(store)
    retrain(store)
    retrain(store)
    assert promoted_version(store) == "v3"
    assert rollback(store, "admin") == "v2"
    assert rollback(store, "admin") == "v1"
    with pytest.raises(InputError, match="aucun modèle mis en service avant celui-ci"):
        rollback(store, "admin")
    promote(store, "v3", "admin")
    assert promoted_version(store) == "v3"
    with pytest.raises(InputError, match="déjà en service"):
        promote(store, "v3", "admin")
    with pytest.raises(InputError, match="modèle inconnu « v9 »"):
        promote(store, "v9", "admin")


def test_retrain_without_reviews_says_what_to_do(recorded_run):
    store, _ = recorded_run
    with pytest.raises(InputError, match="aucune analyse revue"):
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


# --- Guarded retraining (issue 16): promotion needs enough reviews; waves flag a weak model and share jumps


def reviewed_counts(store, run):
    """Reviewed units per theme, counted from the review state itself (not by review.guard)."""
    from collections import Counter

    state = load_state(store, run)
    return Counter(t for u in state.reviewed for t in set(state.labels[u])), state


def test_four_corrections_then_retrain_promote_nothing_and_say_in_french_what_is_missing(recorded_run, gold):
    store, run = recorded_run
    assert review_like_the_gold(store, run, gold, 4) == 4
    counts, state = reviewed_counts(store, run)
    assert sum(counts.values()) >= 4 and len(counts) >= 2  # enough to train, far too few to promote
    report = retrain(store, by="admin")
    assert report.version == "v1" and not report.promoted and promoted_version(store) is None
    assert report.shortfall.total == 4 and report.shortfall.total_missing == MIN_UNITS_TOTAL - 4
    assert report.shortfall.themes_short == {t: MIN_UNITS_PER_THEME - n for t, n in counts.items()}
    summary = report.summary
    assert summary.startswith("modèle v1 : macro-F1 en validation croisée ")
    assert "sur 4 idées revues" in summary and "non mis en service, gardé comme candidat" in summary
    assert f"il faut au moins {MIN_UNITS_TOTAL} idées revues (4 pour l'instant)" in summary
    assert f"{len(counts)} thèmes ont moins de {MIN_UNITS_PER_THEME} idées revues : " in summary
    for theme, n in counts.items():  # each short theme by its label, with the units it has
        assert f"{state.themes[theme].label} ({n})" in summary and theme not in summary
    for english in ("model", "promoted", "reviewed", "cross-validated"):
        assert english not in summary
    rows, promoted = list_models(store)
    assert promoted is None and rows[0].metrics["guard"]["themes_short"] == report.shortfall.themes_short


def test_too_few_reviews_to_train_at_all_is_a_french_input_error(recorded_run, gold):
    store, run = recorded_run
    review_like_the_gold(store, run, gold, 2)
    with pytest.raises(InputError, match="pas assez de revues pour entraîner un modèle") as caught:
        retrain(store)
    assert f"il faut au moins {MIN_UNITS_TOTAL} idées revues (2 pour l'instant)" in str(caught.value)
    assert list_models(store) == ([], None)


def test_shortfall_counts_each_unit_once_per_theme_and_off_topic_like_a_theme():
    gap = shortfall([["a"], ["a", "b"], ["a", "a"], [OFF_TOPIC]])
    assert gap.total == 4 and gap.total_missing == MIN_UNITS_TOTAL - 4 and not gap.ok
    assert gap.themes_short == {
        "a": MIN_UNITS_PER_THEME - 3,
        "b": MIN_UNITS_PER_THEME - 1,
        OFF_TOPIC: MIN_UNITS_PER_THEME - 1,
    }
    enough = shortfall([["a"], ["b"]] * max(MIN_UNITS_PER_THEME, MIN_UNITS_TOTAL // 2 + 1))
    assert enough.ok and enough.total_missing == 0 and enough.themes_short == {}
    one_short = shortfall([["a"]] * MIN_UNITS_TOTAL + [["b"]] * (MIN_UNITS_PER_THEME - 1))
    assert not one_short.ok and one_short.themes_short == {"b": 1} and one_short.total_missing == 0
    assert (
        describe(one_short, {"b": "Budget"})
        == f"1 thème a moins de {MIN_UNITS_PER_THEME} idées revues : Budget ({MIN_UNITS_PER_THEME - 1})"
    )


def test_a_model_below_the_guard_is_refused_for_a_wave_unless_forced_then_flagged(recorded_run, gold):
    store, run = recorded_run
    review_like_the_gold(store, run, gold, 4)
    retrain(store)
    promote(store, "v1", "admin", reason="promoted by hand")  # an admin can still promote a candidate
    row, _ = load_model(store)
    with pytest.raises(InputError, match="le modèle v1 n'a pas vu assez de revues pour classer une vague") as caught:
        model_alerts(row.version, row.metrics, force=False)
    assert "--force" in str(caught.value) and f"il faut au moins {MIN_UNITS_TOTAL}" in str(caught.value)
    (alert,) = model_alerts(row.version, row.metrics, force=True)
    assert alert.startswith("Modèle v1 appliqué sous le seuil de mise en service : il faut au moins")
    assert model_alerts("v0", {"cv_macro_f1": 0.9}, force=True)[0].startswith(
        "Modèle v0 appliqué sous le seuil"
    )  # pre-guard
    assert (
        model_alerts(
            row.version, {**row.metrics, "guard": as_metrics(shortfall([["a"], ["b"]] * MIN_UNITS_TOTAL), {})}, False
        )
        == []
    )


def test_a_share_jump_beyond_sampling_noise_is_flagged_and_ordinary_noise_is_not():
    # the wave: 19 answers, 18 in one theme that held 14.3% of the 200 previous respondents
    (jump,) = share_moves({"sponsorship": 0.143, "moyens": 0.30}, 200, {"sponsorship": 18 / 19, "moyens": 0.3}, 19)
    assert jump.theme_id == "sponsorship" and round(jump.points, 1) == 80.4 and 0.2 < jump.bound < 0.35
    # ten themes, two waves of 300 drawn from the same shares: false alarms stay near the family-wise 5%
    rng = np.random.default_rng(0)
    shares = dict(zip("abcdefghij", (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4), strict=True))
    flagged = 0
    for _ in range(400):
        before = {t: rng.binomial(300, p) / 300 for t, p in shares.items()}
        after = {t: rng.binomial(300, p) / 300 for t, p in shares.items()}
        flagged += bool(share_moves(before, 300, after, 300))
    assert flagged / 400 <= 0.08, flagged
    # while a real 10-point move of a 20% theme between such waves is caught most of the time
    caught = sum(
        bool(share_moves({"x": rng.binomial(300, 0.2) / 300}, 300, {"x": rng.binomial(300, 0.3) / 300}, 300))
        for _ in range(200)
    )
    assert caught / 200 >= 0.6, caught


def test_drift_alerts_name_the_theme_in_french_with_the_figures(reviewed):
    store, run = reviewed
    retrain(store)
    _, model = load_model(store)
    themes = [Theme("sponsorship", "x", [], share=0.95), Theme("p-1", "Nouveau ? y", [], proposed=True, share=0.9)]
    (alert,) = drift_alerts(themes, {"sponsorship": 0.143}, 200, 19, model)
    label = model.theme_labels["sponsorship"]
    assert alert.startswith(f"« {label} » passe de 14 % à 95 % (+80,7 pt) : plus que le hasard n'explique")
    assert "entre deux vagues de 200 et 19 répondants" in alert
    assert drift_alerts([Theme("sponsorship", "x", [], share=0.16)], {"sponsorship": 0.143}, 200, 190, model) == []


def wait_for(client, job_id: str) -> dict:
    deadline = time.time() + 300
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] == "running" and time.time() < deadline:
        time.sleep(0.5)
    return job


@pytest.fixture
def admin_site(recorded_run):
    from test_web import PASSWORD, sign_in

    store, run = recorded_run
    add_user(store, "admin", PASSWORD, "admin")
    client = TestClient(create_app(store, secret="test-secret"))
    _, token = sign_in(client, "admin")
    return store, run, client, token


@pytest.mark.slow
def test_admin_sees_only_working_buttons_and_french_job_outcomes_in_their_colours(admin_site, gold):
    store, run, client, token = admin_site
    page = client.get("/").text
    assert "Réentraîner depuis les revues" not in page and 'id="no-retrain"' in page
    assert "Appliquer le modèle</button>" not in page and "aucun modèle en service" in page
    failed = wait_for(client, client.post("/api/retrain", headers={"X-CSRF-Token": token}).json()["job"])
    job_page = client.get(f"/jobs/{failed['job_id']}").text
    assert failed["state"] == "failed" and failed["message"].startswith("aucune analyse revue")
    assert 'class="error"' in job_page and "État : échec" in job_page and "Error" not in job_page
    review_like_the_gold(store, run, gold, 4)
    assert "Réentraîner depuis les revues" in client.get("/").text
    done = wait_for(client, client.post("/api/retrain", headers={"X-CSRF-Token": token}).json()["job"])
    job_page = client.get(f"/jobs/{done['job_id']}").text
    assert done["state"] == "done" and "non mis en service, gardé comme candidat" in done["message"]
    assert 'id="job-message" class="message"' in job_page and "État : terminé" in job_page
    page = client.get("/").text
    assert "candidat, sous le seuil de mise en service : il faut au moins" in page
    assert "Appliquer le modèle</button>" not in page and "aucun modèle en service" in page
    client.post("/api/models/v1/promote", headers={"X-CSRF-Token": token})  # by hand, below the guard
    page = client.get("/").text
    assert "Appliquer le modèle</button>" not in page and "le modèle v1 en service est sous le seuil" in page
    started = client.post(  # the form is hidden, but a posted wave is refused all the same, in French
        "/waves",
        data={"csrf_token": token},
        files={"wave": ("vague2.csv", SAMPLE.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    refused = wait_for(client, started.headers["location"].rsplit("/", 1)[1])
    assert refused["state"] == "failed" and "n'a pas vu assez de revues pour classer une vague" in refused["message"]


@pytest.mark.slow
def test_a_forced_wave_is_flagged_in_the_report_and_on_its_page(admin_site, gold, tmp_path):
    import pandas as pd

    from flows.classify import classify_wave

    store, run, client, _ = admin_site
    review_like_the_gold(store, run, gold, 4)
    retrain(store)
    promote(store, "v1", "admin", reason="promoted by hand")
    wave = tmp_path / "vague2.csv"
    pd.read_csv(SAMPLE, sep=";", dtype=str).head(120).to_csv(wave, sep=";", index=False)
    with pytest.raises(InputError, match="n'a pas vu assez de revues"):
        classify_wave(wave, db=store.url, out_dir=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    summary = classify_wave(wave, db=store.url, out_dir=tmp_path / "forced", force=True)
    alerts = summary.manifest.parameters[ALERTS]
    assert alerts[0].startswith("Modèle v1 appliqué sous le seuil de mise en service : il faut au moins")
    # the wave, now flagged: a theme of the 4-review model jumps (which one follows the queue's first four:
    # sponsorship +50 pt or more with the fullest answers first, Reconnaissance +45.8 pt one unit per theme)
    jumps = [re.search(r"» passe de .*\(\+(\d+,\d) pt\)", a) for a in alerts]
    assert max(float(j.group(1).replace(",", ".")) for j in jumps if j) > 40, alerts
    report = (tmp_path / "forced" / "report.md").read_text()
    assert "## Alertes" in report and "- Modèle v1 appliqué sous le seuil" in report
    page = client.get(f"/runs/{summary.run_id}").text
    assert 'id="wave-alerts"' in page and "Modèle v1 appliqué sous le seuil" in page


def test_the_commands_show_a_candidate_and_refuse_its_wave_in_french(recorded_run, gold, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from cli.main import app
    from pipeline import settings

    store, run = recorded_run
    review_like_the_gold(store, run, gold, 4)
    retrain(store)
    monkeypatch.setattr(settings, "_current", None)  # the --db options below configure the settings: undone after
    cli = CliRunner()
    listed = cli.invoke(app, ["models", "list", "--db", store.url])
    assert listed.exit_code == 0 and listed.output.startswith("  v1 "), listed.output
    assert "4 idées revues, " in listed.output and "sous le seuil de mise en service : il faut au moins" in listed.output
    promoted = cli.invoke(app, ["models", "promote", "v1", "--db", store.url])
    assert promoted.exit_code == 0 and "modèle v1 mis en service" in promoted.output
    assert "attention : il est sous le seuil de mise en service" in promoted.output and "--force" in promoted.output
    wave = tmp_path / "vague2.csv"
    wave.write_bytes(SAMPLE.read_bytes())
    refused = cli.invoke(app, ["classify", str(wave), "--db", store.url, "--out", str(tmp_path / "out")])
    assert refused.exit_code == 2 and "le modèle v1 n'a pas vu assez de revues" in refused.output, refused.output
    assert not (tmp_path / "out").exists()
