"""Every correction type, undo, the stale-view conflict, the queue and the reviewed export, on SQLite and PostgreSQL."""

import re
import threading

import numpy as np
import pandas as pd
import pytest
from conftest import record_sample

from pipeline.nets import summarise_nets
from review.actions import ACTIONS, Payload
from review.corrections import ReviewError, StaleViewError, correct, history, load_state
from review.queue import review_queue
from review.runs import OFF_TOPIC_REASON, export_reviewed, load_run, reviewed_run


def _two_themes(state):
    """The two largest machine themes other than "Autres"."""
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    return sizes[0][1], sizes[1][1]


def test_rename_changes_the_label_and_keeps_before_and_after(recorded_run):
    store, run = recorded_run
    big, _ = _two_themes(load_state(store, run))
    event = correct(store, run, "alice", "rename", theme=big, label="Culture client au quotidien")
    assert load_state(store, run).themes[big].label == "Culture client au quotidien"
    assert event.before[f"theme:{big}"]["label"] != "Culture client au quotidien"
    assert event.after[f"theme:{big}"]["label"] == "Culture client au quotidien"
    assert [e.action for e in history(store, run)] == ["rename"]


def test_merge_moves_every_unit_and_retires_the_source(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    expected = set(state.members(a)) | set(state.members(b))
    correct(store, run, "alice", "merge", target=a, sources=[b])
    after = load_state(store, run)
    assert set(after.members(a)) == expected and b not in after.themes
    with pytest.raises(ReviewError, match=f"fusionné dans « {re.escape(state.themes[a].label)} »"):
        correct(store, run, "alice", "rename", theme=b, label="x")


def test_split_moves_the_chosen_units_only(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    theme, _ = _two_themes(state)
    members = state.members(theme)
    event = correct(store, run, "alice", "split", theme=theme, units=members[:3], label="Écoute des clients")
    after = load_state(store, run)
    new = event.payload["new_theme"]
    assert after.themes[new].label == "Écoute des clients"
    assert after.members(new) == members[:3] and after.members(theme) == members[3:]
    with pytest.raises(ReviewError, match="renommez plutôt le thème"):
        correct(store, run, "alice", "split", theme=new, units=members[:3], label="Tout")


def test_move_to_an_existing_and_to_a_new_theme(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    unit, other = state.members(a)[:2]
    correct(store, run, "alice", "move", unit=unit, to=b)
    event = correct(store, run, "alice", "move", unit=other, label="Parcours client")
    after = load_state(store, run)
    assert after.labels[unit] == [b] and unit in after.reviewed
    assert after.themes[event.payload["to"]].label == "Parcours client" and after.labels[other] == [event.payload["to"]]
    with pytest.raises(ReviewError, match="déjà dans le thème"):
        correct(store, run, "alice", "move", unit=unit, to=b)
    with pytest.raises(ReviewError, match="idée inconnue"):
        correct(store, run, "alice", "move", unit="R999#9", to=b)


def test_a_second_theme_and_off_topic_show_in_the_reviewed_export(recorded_run, tmp_path):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    both, gone = state.members(a)[0], state.members(a)[1]
    correct(store, run, "alice", "add", unit=both, theme=b)
    correct(store, run, "alice", "off_topic", unit=gone)
    assert load_state(store, run).labels[both] == [a, b]
    export_reviewed(store, run, tmp_path)
    rows = pd.read_csv(tmp_path / "assignments.csv", dtype=str)
    assert sorted(rows[rows.unit_id == both].theme_id) == sorted([a, b])
    assert gone not in set(rows.unit_id)
    excluded = pd.read_csv(tmp_path / "excluded.csv", dtype=str)
    assert (excluded.reason == OFF_TOPIC_REASON).sum() == 1


def test_reviewed_export_recomputes_shares_and_ranks(recorded_run, tmp_path):
    store, run = recorded_run
    before, _ = export_reviewed(store, run, tmp_path / "before")
    top, second = before[0], before[1]
    correct(store, run, "alice", "merge", target=second.theme_id, sources=[top.theme_id])
    after, manifest = export_reviewed(store, run, tmp_path / "after")
    assert after[0].theme_id == second.theme_id
    assert after[0].n_respondents > top.n_respondents
    assert top.theme_id not in {t.theme_id for t in after}
    assert manifest.review.version == 1
    themes = pd.read_csv(tmp_path / "after" / "themes.csv")
    assert themes.loc[0, "theme_id"] == second.theme_id and themes.loc[0, "rank"] == 1


def test_confirm_and_undo(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    unit = state.members(a)[0]
    correct(store, run, "alice", "confirm", unit=unit)
    moved = correct(store, run, "bob", "move", unit=state.members(a)[1], to=b)
    assert unit in load_state(store, run).reviewed
    correct(store, run, "alice", "undo")  # alice's own last correction: the confirm, not bob's move
    after = load_state(store, run)
    assert unit not in after.reviewed and after.labels[state.members(a)[1]] == [b]
    correct(store, run, "alice", "undo", event=moved.seq)
    assert load_state(store, run).labels[state.members(a)[1]] == [a]
    with pytest.raises(ReviewError, match="déjà annulée"):
        correct(store, run, "alice", "undo", event=moved.seq)
    with pytest.raises(ReviewError, match="elle-même une annulation"):
        correct(store, run, "alice", "undo", event=moved.seq + 1)
    assert len(history(store, run)) == 4  # nothing is deleted: undos are events too


def test_undo_refused_when_the_items_changed_since(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    unit = state.members(a)[0]
    first = correct(store, run, "alice", "move", unit=unit, to=b)
    correct(store, run, "bob", "move", unit=unit, to=a)
    with pytest.raises(ReviewError, match=f"impossible d'annuler #{first.seq}.*#{first.seq + 1}"):
        correct(store, run, "alice", "undo", event=first.seq)


def test_a_correction_missing_a_required_field_names_it(recorded_run):
    store, run = recorded_run
    a, b = _two_themes(load_state(store, run))
    with pytest.raises(ReviewError, match="fusion : le champ « sources » est obligatoire"):
        correct(store, run, "alice", "merge", target=a)
    with pytest.raises(ReviewError, match="renommage : le champ « label » est obligatoire"):
        correct(store, run, "alice", "rename", theme=a, label=None)  # None is "not given", as from the CLI
    with pytest.raises(ReviewError, match="« sources » n'est pas valide"):
        correct(store, run, "alice", "merge", target=a, sources=b)
    with pytest.raises(ReviewError, match="correction inconnue « rename_all » ; au choix : rename, merge, split, move, add"):
        correct(store, run, "alice", "rename_all", theme=a)
    assert history(store, run) == []


def test_every_registered_action_has_a_schema_and_replays(recorded_run):
    assert list(ACTIONS) == [
        "rename",
        "merge",
        "split",
        "move",
        "add",
        "off_topic",
        "confirm",
        "rename_net",
        "move_to_net",
        "new_net",
        "dissolve_net",
        "undo",
        "settle",
        "bulk",
    ]
    for name, action in ACTIONS.items():
        assert action.name == name and issubclass(action.Payload, Payload)
        assert action.fields() and all(field.description for field in action.fields().values())
    assert ACTIONS["move"].fields()["from"].required is False and ACTIONS["merge"].fields()["sources"].required
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    c, d = [t for t in state.themes if t not in (a, b, "autres")][:2]
    units = state.members(a)
    given = {
        "rename": {"theme": b, "label": "Nouveau nom"},
        "split": {"theme": a, "units": units[:2], "label": "Une partie"},
        "move": {"unit": units[2], "label": "Ailleurs"},
        "add": {"unit": units[3], "theme": b},
        "off_topic": {"unit": units[4]},
        "confirm": {"unit": units[5]},
        "merge": {"target": a, "sources": [b]},
        "rename_net": {"net": c, "label": "Filet C"},
        "move_to_net": {"theme": d, "net": c},
        "new_net": {"themes": [a], "label": "Filet A"},
        "dissolve_net": {"net": c},
        "undo": {},
        "settle": {"unit": units[6], "themes": [d, c]},
        "bulk": {"operation": "move", "units": units[7:10], "to": c},
    }
    assert set(given) == set(ACTIONS)  # a new action needs a line here
    for name, payload in given.items():  # each correction's "after" is what replaying history gives
        event = correct(store, run, "alice", name, **payload)
        assert load_state(store, run).snapshot(event.touched) == event.after
        assert load_state(store, run).version == event.seq
    assert [e.action for e in history(store, run)] == list(given)


def test_a_correction_on_a_stale_view_is_refused_not_overwritten(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    unit, other = state.members(a)[:2]
    seen = state.version
    correct(store, run, "alice", "move", unit=unit, to=b, seen=seen)
    with pytest.raises(StaleViewError, match=r"alice a déplacé l'idée .*version actuelle : 1\)"):
        correct(store, run, "bob", "move", unit=unit, label="Autre chose", seen=seen)
    assert load_state(store, run).labels[unit] == [b]  # alice's correction stands
    correct(store, run, "bob", "move", unit=other, to=b, seen=seen)  # a different item: no conflict
    correct(store, run, "alice", "rename", theme=a, label="Nom A", seen=seen)
    with pytest.raises(StaleViewError, match="alice a renommé le thème"):  # bob renames the theme alice just renamed
        correct(store, run, "bob", "rename", theme=a, label="Nom B", seen=seen)
    assert load_state(store, run).themes[a].label == "Nom A"


def test_a_correction_that_a_later_change_made_invalid_is_a_stale_view_not_a_bad_request(recorded_run):
    """bob marks a unit off-topic; alice, on the view before, moves it out of the theme it was in: she must reload
    (409), not read that the unit "is not in this theme" (400), which her view said it was."""
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    unit, seen = state.members(a)[0], state.version
    correct(store, run, "bob", "off_topic", unit=unit, seen=seen)
    with pytest.raises(StaleViewError, match=r"bob a marqué hors sujet l'idée"):
        correct(store, run, "alice", "move", unit=unit, to=b, seen=seen, **{"from": a})
    with pytest.raises(ReviewError) as invalid:  # invalid on her own view too: today's check says why (400)
        correct(store, run, "alice", "move", unit=unit, to=a, seen=seen + 1, **{"from": b})
    assert not isinstance(invalid.value, StaleViewError)


def test_simultaneous_reviewers_lose_nothing(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = state.members(a)[:12]
    errors: list[Exception] = []

    def review(reviewer: str, mine: list[str]) -> None:
        for unit in mine:
            try:
                correct(store, run, reviewer, "move", unit=unit, to=b, seen=0)
            except Exception as exc:  # noqa: BLE001 - any failure is a lost correction
                errors.append(exc)

    threads = [threading.Thread(target=review, args=(r, units[i::2])) for i, r in enumerate(("alice", "bob"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [e.seq for e in history(store, run)] == list(range(1, 13))
    assert all(load_state(store, run).labels[u] == [b] for u in units)


def test_queue_goes_round_the_themes_nearest_their_centres_first(recorded_run, sample_vectors):
    store, run = recorded_run
    version, items = review_queue(store, run, limit=500)
    assert version == 0
    state, row = load_state(store, run), {u.unit_id: i for i, u in enumerate(load_run(store, run).units)}
    members: dict[str, list[str]] = {}
    for unit_id, themes in state.labels.items():
        members.setdefault(themes[0], []).append(unit_id)
    open_units = {t: len(units) for t, units in members.items()}
    first_round = items[: len(open_units)]
    assert {i.theme_id for i in first_round} == set(open_units)  # one unit per theme a round
    sizes = [open_units[i.theme_id] for i in first_round]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]  # the themes with most open units first
    for item in first_round:  # each theme's unit nearest its centre
        vectors = sample_vectors[[row[u] for u in members[item.theme_id]]]
        centre = vectors.sum(axis=0)
        nearness = dict(zip(members[item.theme_id], vectors @ (centre / np.linalg.norm(centre)), strict=True))
        assert nearness[item.unit_id] >= max(nearness.values()) - 1e-4
        assert item.worth == round(open_units[item.theme_id] / len(state.labels), 4)
    left = [t for t in open_units if open_units[t] > 1]  # the second round: every theme with units left
    assert sorted(i.theme_id for i in items[len(open_units) : len(open_units) + len(left)]) == sorted(left)
    correct(store, run, "alice", "confirm", unit=items[0].unit_id)
    _, again = review_queue(store, run, limit=500)
    assert items[0].unit_id not in {i.unit_id for i in again}  # reviewed units leave the queue


def test_queue_goes_round_the_nets_first_their_codes_taking_turns(
    store, sample_dataset, sample_clean, sample_clustered, sample_vectors, codebook, tmp_path
):
    from pipeline.nets import add_nets
    from pipeline.rank import rank_themes

    units, assignments = sample_clean.units, sample_clustered.assignments
    ranked = rank_themes(sample_clustered.themes, assignments, units, sample_vectors, sample_dataset.responses, [])
    themes = add_nets(ranked, assignments, units, sample_vectors, codebook.nets)
    record_sample(store, "run-nets", sample_dataset, sample_clean, sample_clustered, codebook.question, tmp_path, themes)
    _, items = review_queue(store, "run-nets", limit=10_000)  # every open unit: worth is a share of them all
    net_of = {t.theme_id: t.net_id for t in themes}
    nets = list(dict.fromkeys(net_of[i.theme_id] for i in items))
    assert len(nets) < len({i.theme_id for i in items})  # the leadership net holds several codes
    assert {net_of[i.theme_id] for i in items[: len(nets)]} == set(nets)  # one unit per net a round
    leadership = net_of["sponsorship"]
    codes = {t for t, n in net_of.items() if n == leadership}
    theirs = [i.theme_id for i in items if net_of[i.theme_id] == leadership]
    assert len(codes) >= 2 and set(theirs[: len(codes)]) == codes  # its codes take turns, one each before any twice
    share = sum(1 for i in items if net_of[i.theme_id] == leadership) / len(items)
    assert next(i.worth for i in items if net_of[i.theme_id] == leadership) == pytest.approx(share, abs=1e-3)


def test_queue_learns_from_reviews_once_enough_units_are_settled(recorded_run):
    store, run = recorded_run
    _, first = review_queue(store, run, limit=54)
    state = load_state(store, run)
    for item in first[:24]:
        correct(store, run, "alice", "confirm", unit=item.unit_id)
    _, still_first = review_queue(store, run, limit=1)
    assert still_first[0].probability is None  # 24 reviews: not enough to learn from
    for item in first[24:44]:  # the runner-up was right for these
        if item.runner_up_id:
            correct(store, run, "alice", "move", unit=item.unit_id, to=item.runner_up_id)
        else:
            correct(store, run, "alice", "confirm", unit=item.unit_id)
    assert len(load_state(store, run).reviewed) >= 40
    _, learnt = review_queue(store, run, limit=len(state.labels))
    assert all(0 <= i.certainty <= 1 for i in learnt)
    assert [i.worth for i in learnt] == sorted((i.worth for i in learnt), reverse=True)
    assert all(i.worth == round(1 - i.certainty, 4) for i in learnt)  # doubt alone
    assert len(first) == 54 and [i.unit_id for i in learnt[:10]] != [i.unit_id for i in first[44:]]  # order changed
    assert not {i.unit_id for i in learnt} & {i.unit_id for i in first[:44]}


def _nets(state) -> dict[str, set[str]]:
    return {net: set(codes) for net, codes in state.nets().items()}


def test_net_actions_apply_replay_and_undo(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    c = next(t for t in state.themes if t not in (a, b, "autres"))
    assert state.net_of(a) == (a, state.themes[a].label)  # recorded without nets: each code is its own net
    made = correct(store, run, "alice", "new_net", themes=[a, b], label="Relation client")
    net = made.payload["net"]
    assert net.startswith("rn-") and _nets(load_state(store, run))[net] == {a, b}
    assert made.after[f"net:{net}"]["label"] == "Relation client" and set(made.after[f"net:{net}"]["themes"]) == {a, b}
    correct(store, run, "alice", "rename_net", net=net, label="Relation aux clients")
    correct(store, run, "bob", "move_to_net", theme=c, net=net)
    after = load_state(store, run)
    assert after.renetted and _nets(after)[net] == {a, b, c}
    assert {after.net_of(t) for t in (a, b, c)} == {(net, "Relation aux clients")}
    with pytest.raises(ReviewError, match="déjà dans le regroupement"):
        correct(store, run, "alice", "move_to_net", theme=c, net=net)
    with pytest.raises(ReviewError, match="regroupement inconnu « nowhere »"):
        correct(store, run, "alice", "rename_net", net="nowhere", label="x")
    with pytest.raises(ReviewError, match="reste dans un regroupement à part"):
        correct(store, run, "alice", "move_to_net", theme="autres", net=net)
    with pytest.raises(ReviewError, match="libellé du regroupement ne peut pas être vide"):
        correct(store, run, "alice", "new_net", themes=[a], label=" ")
    dissolved = correct(store, run, "alice", "dissolve_net", net=net)
    after = load_state(store, run)
    assert net not in after.nets() and {after.net_of(t)[0] for t in (a, b, c)} == {a, b, c}
    assert after.net_of(a)[1] == after.themes[a].label
    with pytest.raises(ReviewError, match="n'a qu'un thème"):
        correct(store, run, "alice", "dissolve_net", net=a)
    correct(store, run, "alice", "undo", event=dissolved.seq)  # replayed without the dissolve: the net is back
    assert _nets(load_state(store, run))[net] == {a, b, c}
    with pytest.raises(ReviewError, match="impossible d'annuler"):  # bob's move built on the new net
        correct(store, run, "alice", "undo", event=made.seq)


def test_merge_split_and_move_keep_nets(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    c = next(t for t in state.themes if t not in (a, b, "autres"))
    net = correct(store, run, "alice", "new_net", themes=[a, c], label="Filet").payload["net"]
    correct(store, run, "alice", "merge", target=b, sources=[c])  # the target keeps its net, the source leaves
    split = correct(store, run, "alice", "split", theme=a, units=state.members(a)[:2], label="Une partie")
    moved = correct(store, run, "alice", "move", unit=state.members(a)[2], label="Ailleurs")
    after = load_state(store, run)
    assert _nets(after)[net] == {a, split.payload["new_theme"], moved.payload["to"]}
    assert after.net_of(b)[0] == b


def test_a_net_another_reviewer_changed_is_a_stale_view(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    seen = state.version
    correct(store, run, "alice", "rename_net", net=a, label="Filet d'Alice", seen=seen)
    with pytest.raises(StaleViewError, match=f"le regroupement {a}"):
        correct(store, run, "bob", "move_to_net", theme=b, net=a, seen=seen)
    with pytest.raises(StaleViewError, match=f"le regroupement {a}"):
        correct(store, run, "bob", "new_net", themes=[a, b], label="Filet de Bob", seen=seen)
    assert load_state(store, run).net_of(a)[1] == "Filet d'Alice"


def test_reviewed_run_shows_the_reviewed_nets_counting_respondents_once(recorded_run):
    store, run = recorded_run
    state = load_state(store, run)
    a, b = _two_themes(state)
    correct(store, run, "alice", "add", unit=state.members(a)[0], theme=b)  # one respondent in both codes
    net = correct(store, run, "alice", "new_net", themes=[a, b], label="Relation client").payload["net"]
    correct(store, run, "alice", "rename_net", net=net, label="Relation aux clients")
    r = reviewed_run(store, run)
    assert [t.theme_id for t in r.themes[:2]] == [a, b] and [t.rank for t in r.themes[:3]] == [1, 2, 3]
    assert {(t.net_id, t.net_label) for t in r.themes[:2]} == {(net, "Relation aux clients")}
    assert all(t.net_id == t.theme_id for t in r.themes[2:])  # the other codes stay alone, as recorded
    respondent_of = {u.unit_id: u.respondent_id for u in r.units}
    who = {respondent_of[x.unit_id] for x in r.result.assignments if x.theme_id in (a, b)}
    top = summarise_nets(r.themes, r.result.assignments, r.units)[0]
    assert top.net_id == net and top.n_respondents == len(who) < r.themes[0].n_respondents + r.themes[1].n_respondents


def test_the_cli_corrects_nets_and_shows_them(recorded_run, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from pipeline import settings

    store, run = recorded_run
    if not store.url.startswith("sqlite"):
        pytest.skip("the commands are the same on both databases: tried on SQLite")
    monkeypatch.setattr(settings, "_current", None)  # the options below configure the settings: undone after
    a, b = _two_themes(load_state(store, run))
    c = next(t for t in load_state(store, run).themes if t not in (a, b, "autres"))
    cli = CliRunner()

    def review(*args: str):
        result = cli.invoke(app, ["review", *args, "--db", store.url, "--reviewer", "alice"])
        assert result.exit_code == 0, result.output
        return result.output

    assert "Correction #1 enregistrée : nouveau regroupement" in review("new-net", run, a, b, "--label", "Relation client")
    net = load_state(store, run).net_of(a)[0]
    review("rename-net", run, net, "Relation aux clients", "--seen", "1")
    review("move-to-net", run, c, net)
    assert _nets(load_state(store, run))[net] == {a, b, c}
    review("dissolve-net", run, net)
    assert net not in load_state(store, run).nets()
    shown = cli.invoke(app, ["review", "show", run, "--db", store.url]).output
    assert f"regroupement {a}" in shown and " thèmes dans " in shown
    failed = cli.invoke(app, ["review", "rename-net", run, "nowhere", "x", "--db", store.url, "--reviewer", "alice"])
    assert failed.exit_code != 0 and "regroupement inconnu « nowhere »" in failed.output + str(failed.exception)
