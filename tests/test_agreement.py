"""Agreement between coders: double coding blind, alpha and kappa on known values, the machine against each
reviewer, and disagreements settled by a third reviewer as an audited correction, on SQLite and PostgreSQL."""

import random
from collections import Counter

import pytest

from pipeline.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from review.agreement import agreement, settle
from review.corrections import StaleViewError, correct, history, load_state
from review.double_coding import assign, code, stratified_sample, tasks
from review.reliability import cohen_kappa, krippendorff_alpha, observed_agreement
from review.retrain import training_set
from review.users import add_user

PASSWORD = "correct horse battery"


def test_alpha_gives_krippendorffs_worked_examples():
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability": nominal data, four observers with
    missing values (alpha 0.743), and two observers on binary data (alpha 0.095)."""
    n = None
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3]
    c = [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]
    assert krippendorff_alpha(list(zip(a, b, c, d, strict=True))) == pytest.approx(0.743, abs=5e-4)
    first, second = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha(list(zip(first, second, strict=True))) == pytest.approx(0.095, abs=5e-4)
    # kappa by hand: observed 0.6, chance 0.2 * 0.4 + 0.8 * 0.6 = 0.56, (0.6 - 0.56) / 0.44
    assert cohen_kappa(first, second) == pytest.approx(0.04 / 0.44)
    assert observed_agreement(first, second) == 0.6


def test_agreement_figures_are_undefined_without_two_categories_and_perfect_when_equal():
    assert krippendorff_alpha([("x", "x"), ("x", "x")]) is None and cohen_kappa(["x", "x"], ["x", "x"]) is None
    assert krippendorff_alpha([("x", "y"), ("y", "x")]) == pytest.approx(-0.5)  # (n-1) * 4 / (16 - 8)
    assert cohen_kappa(["x", "y", "z"], ["x", "y", "z"]) == 1.0 and krippendorff_alpha([("x", "x"), ("y", "y")]) == 1.0
    assert krippendorff_alpha([("x", None), ("y", None)]) is None  # no unit coded twice
    with pytest.raises(ValueError):
        cohen_kappa(["x"], ["x", "y"])


def test_a_stratified_sample_follows_each_strata_size():
    strata = {"a": [f"a{i}" for i in range(50)], "b": [f"b{i}" for i in range(30)], "c": [f"c{i}" for i in range(20)]}
    drawn = stratified_sample(strata, 10, random.Random(1))
    assert Counter(item[0] for item in drawn) == {"a": 5, "b": 3, "c": 2} and len(set(drawn)) == 10
    drawn = stratified_sample(strata, 4, random.Random(1))  # quotas 2, 1.2, 0.8: the largest remainder wins
    assert Counter(item[0] for item in drawn) == {"a": 2, "b": 1, "c": 1}
    assert stratified_sample(strata, 4, random.Random(1)) == drawn  # the seed makes it reproducible
    assert len(stratified_sample(strata, 500, random.Random(1))) == 100


@pytest.fixture
def coders(recorded_run):
    store, run = recorded_run
    for name, role in (("ana", "reviewer"), ("bob", "reviewer"), ("cid", "admin"), ("vic", "viewer")):
        add_user(store, name, PASSWORD, role)
    return store, run


def test_double_coding_gives_a_stratified_sample_to_both_and_never_twice(coders):
    store, run = coders
    state = load_state(store, run)
    off = next(iter(state.labels))
    correct(store, run, "rita", "off_topic", unit=off)
    first = assign(store, run, 20, ["ana", "bob"], by="cid", seed=7)
    assert len(first) == len(set(first)) == 20 and off not in first
    assert [t.unit_id for t in tasks(store, run, "ana")] == first == [t.unit_id for t in tasks(store, run, "bob")]
    mains = Counter(state.labels[u][0] for u in state.labels if u != off)
    drawn = Counter(state.labels[u][0] for u in first)
    total = sum(mains.values())
    assert all(int(20 * mains[t] / total) <= drawn[t] <= int(20 * mains[t] / total) + 1 for t in mains)
    second = assign(store, run, 20, ["bob", "ana"], by="cid", seed=7)
    assert len(second) == 20 and not set(first) & set(second)
    assert agreement(store, run).assigned == 40
    rest = assign(store, run, 100_000, ["ana", "bob"], by="cid")
    assert len(rest) == len(state.labels) - 41  # every unit left but the off-topic one
    assert assign(store, run, 5, ["ana", "bob"], by="cid") == []


def test_double_coding_needs_two_distinct_reviewers_who_can_code(coders):
    store, run = coders
    with pytest.raises(InputError, match="deux codeurs distincts"):
        assign(store, run, 5, ["ana", "ana"], by="cid")
    with pytest.raises(NotFoundError, match="utilisateur inconnu : zoe"):
        assign(store, run, 5, ["ana", "zoe"], by="cid")
    with pytest.raises(InputError, match="vic est viewer"):
        assign(store, run, 5, ["ana", "vic"], by="cid")
    with pytest.raises(InputError, match="au moins une"):
        assign(store, run, 0, ["ana", "bob"], by="cid")
    assert agreement(store, run).assigned == 0


def test_coding_is_blind_and_stays_as_given_once_both_coded(coders):
    store, run = coders
    unit, other = assign(store, run, 2, ["ana", "bob"], by="cid")
    themes = [t for t in load_state(store, run).themes if t != "autres"]
    with pytest.raises(ForbiddenError):
        code(store, run, unit, "cid", [themes[0]])  # not given to cid
    code(store, run, unit, "bob", [themes[1]])
    assert [t.themes for t in tasks(store, run, "ana")] == [None, None]  # bob's answer is not shown to ana
    code(store, run, unit, "ana", [themes[0]])  # changing her mind is allowed only until both coded
    with pytest.raises(ConflictError, match="déjà codée par les deux"):
        code(store, run, unit, "ana", [themes[1]])
    with pytest.raises(ConflictError):
        code(store, run, unit, "bob", [themes[0]])
    assert [(t.unit_id, t.themes, t.locked) for t in tasks(store, run, "ana")] == [
        (unit, [themes[0]], True),
        (other, None, False),
    ]
    code(store, run, other, "ana", [themes[0]])
    code(store, run, other, "ana", [themes[2], themes[0], themes[2]])  # not yet coded by bob: she may change it
    assert tasks(store, run, "ana")[1].themes == [themes[2], themes[0]]
    with pytest.raises(NotFoundError, match="thème inconnu"):
        code(store, run, other, "ana", ["no-such-theme"])
    with pytest.raises(InputError, match="hors sujet"):
        code(store, run, other, "ana", ["hors-sujet", themes[0]])
    with pytest.raises(InputError, match="au moins un thème"):
        code(store, run, other, "ana", [])
    assert history(store, run) == []  # blind codings are not corrections of the run


def _units_by_machine_theme(state):
    """Two themes, with two units each whose machine main theme it is."""
    mains: dict[str, list[str]] = {}
    for unit, themes in state.labels.items():
        mains.setdefault(themes[0], []).append(unit)
    a, b = [t for t in mains if t != "autres" and len(mains[t]) >= 2][:2]
    return a, b, mains[a][:2] + mains[b][:2]


def test_the_report_gives_alpha_kappa_per_theme_and_the_machine_against_each_reviewer(coders):
    store, run = coders
    state = load_state(store, run)
    a, b, (u1, u2, u3, u4) = _units_by_machine_theme(state)
    c = next(t for t in state.themes if t not in (a, b, "autres"))
    assign(store, run, 100_000, ["ana", "bob"], by="cid")
    for unit, ana, bob in ((u1, [a, c], [a]), (u2, [a], [b]), (u3, [b], [b]), (u4, [b], [b])):
        code(store, run, unit, "ana", ana)
        code(store, run, unit, "bob", bob)
    code(store, run, next(u for u in state.labels if u not in (u1, u2, u3, u4)), "ana", [a])  # bob has not: not counted
    report = agreement(store, run)
    assert report.reviewers == ["ana", "bob"] and report.both == 4 and report.coded == {"ana": 5, "bob": 4}
    # main themes a a b b / a b b b: observed 3/4, chance .5 * .25 + .5 * .75 = .5, kappa .5;
    # alpha: 8 values (3 a, 5 b), 2 disagreeing pairs: 1 - 7 * 2 / (64 - 9 - 25) = 8/15
    assert report.kappa == pytest.approx(0.5) and report.alpha == pytest.approx(8 / 15) and report.agreement == 0.75
    per_theme = {t.theme_id: t for t in report.themes}
    assert set(per_theme) == {a, b, c}
    assert per_theme[a].counts == (2, 1) and per_theme[a].kappa == pytest.approx(0.5)
    assert (
        per_theme[c].counts == (1, 0) and per_theme[c].kappa == pytest.approx(0) and per_theme[c].alpha == pytest.approx(0)
    )
    machine = {m.reviewer: m for m in report.machine}  # the machine said a a b b, as ana did
    assert machine["ana"].kappa == pytest.approx(1.0) and machine["bob"].kappa == pytest.approx(0.5)
    assert machine["ana"].units == machine["bob"].units == 4 and machine["bob"].agreement == 0.75
    assert report.machine_at_par is True  # its worst (0.5) is as good as the two reviewers together (0.5)
    assert [(d.unit_id, d.codings) for d in report.disagreements] == [
        (u1, {"ana": [a, c], "bob": [a]}),
        (u2, {"ana": [a], "bob": [b]}),
    ]
    assert report.settled == 0 and not report.disagreements[0].settled


def test_a_third_reviewer_settles_a_disagreement_which_counts_as_reviewed(coders):
    store, run = coders
    state = load_state(store, run)
    a, b, (u1, u2, u3, _) = _units_by_machine_theme(state)
    assign(store, run, 100_000, ["ana", "bob"], by="cid")
    for unit, ana, bob in ((u1, [a], ["hors-sujet"]), (u2, [a], [b]), (u3, [b], [b])):
        code(store, run, unit, "ana", ana)
        code(store, run, unit, "bob", bob)
    with pytest.raises(ForbiddenError, match="un troisième codeur"):
        settle(store, run, u2, "ana", [b])
    with pytest.raises(ConflictError, match="d'accord"):
        settle(store, run, u3, "cid", [a])
    with pytest.raises(ConflictError, match="pas encore codée"):
        settle(store, run, next(u for u in state.labels if u not in (u1, u2, u3)), "cid", [a])
    event = settle(store, run, u2, "cid", [b, a])
    assert (event.action, event.reviewer, event.payload) == (
        "settle",
        "cid",
        {"unit": u2, "themes": [b, a], "off_topic": False},
    )
    after = load_state(store, run)
    assert after.labels[u2] == [b, a] and u2 in after.reviewed
    data = training_set(store, [run])
    text = dict(zip(data.texts, data.label_sets, strict=True))
    assert [b, a] in text.values() and len(data.texts) == 1  # the settled unit, and nothing else, is reviewed
    with pytest.raises(ConflictError, match="déjà tranchée par cid"):
        settle(store, run, u2, "cid", [a])
    report = agreement(store, run)
    assert report.settled == 1 and [(d.unit_id, d.settled_by, d.settled_themes) for d in report.disagreements] == [
        (u1, None, []),
        (u2, "cid", [b, a]),
    ]
    correct(store, run, "cid", "undo")  # the settle is a correction like any other: undone, the unit is open again
    assert agreement(store, run).settled == 0 and u2 not in load_state(store, run).reviewed
    settle(store, run, u1, "cid", ["hors-sujet"])
    assert u1 in load_state(store, run).off_topic and agreement(store, run).disagreements[0].settled_themes == ["hors-sujet"]


def test_the_commands_double_code_report_in_french_and_settle(coders, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from pipeline import settings

    store, run = coders
    if not store.url.startswith("sqlite"):
        pytest.skip("the commands are the same on both databases: tried on SQLite")
    monkeypatch.setattr(settings, "_current", None)  # the options below configure the settings: undone after
    cli = CliRunner()

    def review(*args: str, who: str | None = "cid") -> str:
        result = cli.invoke(app, ["review", *args, "--db", store.url, *(["--reviewer", who] if who else [])])
        assert result.exit_code == 0, result.output
        return result.output

    assert "4 idées confiées à ana et bob" in review("double-code", run, "--sample", "4", "--reviewers", "ana,bob")
    units = [t.unit_id for t in tasks(store, run, "ana")]
    a, b = [t for t in load_state(store, run).themes if t != "autres"][:2]
    for unit, ana, bob in zip(units[:3], (a, a, b), (a, b, b), strict=True):
        review("code", run, unit, "--themes", ana, who="ana")
        review("code", run, unit, "--themes", bob, who="bob")
    shown = review("agreement", run, who=None)
    # main themes a a b / a b b: observed 2/3, chance 2 * (2/3 * 1/3) = 4/9, kappa (2/3 - 4/9) / (5/9) = 0.4
    assert "4 idées en double codage (ana 3, bob 3 codées), 3 codées par les deux" in shown
    assert "kappa de Cohen : 0,400" in shown and "Désaccords : 1, dont 0 tranché." in shown
    assert f"{units[1]:<16} à trancher" in shown
    assert f"désaccord sur l'idée {units[1]} tranché par cid" in review("settle", run, units[1], "--themes", f"{b},{a}")
    assert "Désaccords : 1, dont 1 tranché." in review("agreement", run, who=None)
    refused = cli.invoke(app, ["review", "settle", run, units[0], "--themes", a, "--db", store.url, "--reviewer", "cid"])
    assert refused.exit_code == 2 and "d'accord" in refused.output


def test_settling_on_a_page_older_than_a_change_to_the_unit_is_refused(coders):
    store, run = coders
    state = load_state(store, run)
    a, b, (u1, *_) = _units_by_machine_theme(state)
    assign(store, run, 100_000, ["ana", "bob"], by="cid")
    code(store, run, u1, "ana", [a])
    code(store, run, u1, "bob", [b])
    seen = agreement(store, run).version
    correct(store, run, "rita", "add", unit=u1, theme=b)  # someone else corrects the unit meanwhile
    with pytest.raises(StaleViewError):
        settle(store, run, u1, "cid", [a], seen)
    assert agreement(store, run).settled == 0
    settle(store, run, u1, "cid", [a], agreement(store, run).version)  # on a fresh page it goes through
    assert load_state(store, run).labels[u1] == [a]
