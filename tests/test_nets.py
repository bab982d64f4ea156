import numpy as np

from pipeline.codebook import load_codebook
from pipeline.nets import NetGrouping, add_nets, net_id_of, summarise_nets
from pipeline.rank import rank_themes
from pipeline.records import OTHER_ID, Assignment, IdeaUnit, Response, Theme


def unit_vector(*values: float) -> np.ndarray:
    v = np.array(values, dtype=float)
    return v / np.linalg.norm(v)


def case(vectors_by_theme: dict[str, list[tuple[str, np.ndarray]]]):
    """Units (one per (respondent, vector) pair), their assignments, vectors and respondents, from a plan."""
    units, assignments, vectors = [], [], []
    for theme_id, members in vectors_by_theme.items():
        for n, (respondent, vector) in enumerate(members):
            units.append(IdeaUnit(f"{respondent}#{theme_id}{n}", respondent, f"{theme_id} {n}", ""))
            assignments.append(Assignment(units[-1].unit_id, theme_id, 0.9))
            vectors.append(vector)
    responses = [Response(r, "") for r in dict.fromkeys(u.respondent_id for u in units)]
    return units, assignments, np.array(vectors), responses


def ranked(themes, units, assignments, vectors, responses, codebook_nets=None):
    themes = rank_themes(themes, assignments, units, vectors, responses, [])
    return add_nets(themes, assignments, units, vectors, codebook_nets)


def test_a_net_counts_a_respondent_once_whatever_codes_they_carry():
    near_a, near_b, far = unit_vector(1, 0.1, 0), unit_vector(1, 0, 0.1), unit_vector(0, 0, 1)
    units, assignments, vectors, responses = case(
        {
            "budget": [("r1", near_a), ("r2", near_a)],
            "moyens": [("r1", near_b), ("r3", near_b)],
            "temps": [("r4", far)],
        }
    )
    themes = [Theme("budget", "Budget", []), Theme("moyens", "Moyens humains", []), Theme("temps", "Temps", [])]
    themes = ranked(themes, units, assignments, vectors, responses)
    nets = summarise_nets(themes, assignments, units)
    money = nets[0]
    assert set(money.code_ids) == {"budget", "moyens"} and money.n_respondents == 3 and money.share == 0.75
    assert money.share < sum(t.share for t in themes if t.net_id == money.net_id)
    assert money.net_id == net_id_of(["moyens", "budget"]) and money.net_id.startswith("n-")
    assert money.label == "Budget"  # its largest code's (first of equals in rank order)
    assert nets[1].net_id == "temps" and nets[1].code_ids == ("temps",)  # a code alone is its own net
    assert [t.theme_id for t in themes] == ["budget", "moyens", "temps"] and [t.rank for t in themes] == [1, 2, 3]


def test_nets_group_codes_as_clustered_not_by_the_codes_their_words_added():
    budget, moyens, temps = unit_vector(1, 0, 0), unit_vector(0.7, 0.7, 0), unit_vector(0, 0, 1)
    units, assignments, vectors, responses = case(
        {"budget": [("r1", budget)], "moyens": [("r2", moyens)], "temps": [("r3", temps)] * 3}
    )
    themes = [Theme("budget", "Budget", []), Theme("moyens", "Moyens humains", []), Theme("temps", "Temps", [])]
    alone = {t.theme_id: t.net_id for t in ranked(themes, units, assignments, vectors, responses)}
    assert len(set(alone.values())) == 2  # budget and moyens together, temps apart
    # the "temps" units also carry "moyens", after their nearest (pipeline.label_codes): its centre stays its own
    added = [*assignments, *(Assignment(a.unit_id, "moyens", 0.1) for a in assignments if a.theme_id == "temps")]
    assert {t.theme_id: t.net_id for t in ranked(themes, units, added, vectors, responses)} == alone


def test_a_codebook_net_groups_the_named_codes_however_far_apart():
    x, y, z = unit_vector(1, 0, 0), unit_vector(0, 1, 0), unit_vector(0, 0, 1)
    units, assignments, vectors, responses = case({"sponsor": [("r1", x)], "dirigeants": [("r2", y)], "temps": [("r3", z)]})
    themes = [Theme("sponsor", "Sponsor", []), Theme("dirigeants", "Dirigeants", []), Theme("temps", "Temps", [])]
    net = "Leadership et sponsoring"
    themes = ranked(themes, units, assignments, vectors, responses, {"sponsor": net, "dirigeants": net})
    by_id = {t.theme_id: t for t in themes}
    assert by_id["sponsor"].net_id == by_id["dirigeants"].net_id != by_id["temps"].net_id
    assert by_id["sponsor"].net_label == net and by_id["temps"].net_label == "Temps"


def test_two_named_nets_never_merge_and_others_may_join_one():
    same = np.tile(unit_vector(1, 0, 0), (3, 1))
    grouping = NetGrouping(distance_threshold=0.5).fit(same, ["A", "B", None])
    assert grouping.labels_[0] != grouping.labels_[1] and grouping.labels_[2] in grouping.labels_[:2]
    assert sorted(n for n in grouping.names_ if n) == ["A", "B"]


def test_autres_is_never_grouped_and_comes_last():
    v, elsewhere = unit_vector(1, 0, 0), unit_vector(0, 1, 0)
    units, assignments, vectors, responses = case(
        {OTHER_ID: [("r1", v), ("r2", v), ("r3", elsewhere)], "temps": [("r4", v)], "delais": [("r5", v)]}
    )
    themes = [Theme(OTHER_ID, "Autres", []), Theme("temps", "Temps", []), Theme("delais", "Délais", [])]
    themes = ranked(themes, units, assignments, vectors, responses)
    other = themes[-1]
    assert other.theme_id == OTHER_ID and other.net_id == OTHER_ID and other.net_label == "Autres"
    assert themes[0].net_id == themes[1].net_id != OTHER_ID
    assert summarise_nets(themes, assignments, units)[-1].code_ids == (OTHER_ID,)


def test_codebook_net_key_is_read(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text(
        "themes:\n  - {id: a, label: A, net: Leadership}\n  - {id: b, label: B, net: ' Leadership '}\n"
        "  - {id: c, label: C}\n",
        encoding="utf-8",
    )
    assert load_codebook(path).nets == {"a": "Leadership", "b": "Leadership"}


def test_on_the_sample_leadership_codes_share_the_sponsorship_net_ranked_first_or_second(
    sample_clustered, sample_clean, sample_vectors, sample_dataset, codebook
):
    themes = rank_themes(
        sample_clustered.themes,
        sample_clustered.assignments,
        sample_clean.units,
        sample_vectors,
        sample_dataset.responses,
        [],
    )
    themes = add_nets(themes, sample_clustered.assignments, sample_clean.units, sample_vectors, codebook.nets)
    sponsor = next(t for t in themes if t.theme_id == "sponsorship")
    leadership = [t for t in themes if t.net_id == sponsor.net_id]
    machine = [t for t in leadership if not t.from_codebook]
    assert sponsor.net_label == "Leadership et sponsoring"
    assert len(machine) >= 2 and all({"manager", "dirigeant", "directeur"} & set(t.keywords[:4]) for t in machine)
    nets = summarise_nets(themes, sample_clustered.assignments, sample_clean.units)
    assert next(n.rank for n in nets if n.net_id == sponsor.net_id) <= 2
    assert next(n for n in nets if n.net_id == sponsor.net_id).n_respondents < sum(t.n_respondents for t in leadership)


def test_nets_are_cut_on_what_tells_codes_apart_not_on_the_subject_every_answer_shares():
    # every unit is mostly the question's subject (first axis); from the origin all four codes are within 0.09
    # of each other and made one net; from the mean of the units only "bilan" and "rapport" are near
    bilan, rapport = unit_vector(1, 0.3, 0, 0), unit_vector(1, 0.3, 0.03, 0)
    ecole, presse = unit_vector(1, 0, 0.3, 0), unit_vector(1, 0, 0, 0.3)
    units, assignments, vectors, responses = case(
        {
            "bilan": [("r1", bilan), ("r2", bilan)],
            "rapport": [("r3", rapport)],
            "ecole": [("r4", ecole), ("r5", ecole)],
            "presse": [("r6", presse), ("r7", presse)],
        }
    )
    assert 1 - unit_vector(1, 0.3, 0, 0) @ unit_vector(1, 0, 0, 0.3) < 0.1
    themes = [Theme(c, c.capitalize(), []) for c in ("bilan", "rapport", "ecole", "presse")]
    nets = {t.theme_id: t.net_id for t in ranked(themes, units, assignments, vectors, responses)}
    assert nets["bilan"] == nets["rapport"] and len({nets["bilan"], nets["ecole"], nets["presse"]}) == 3


def test_codebook_themes_share_a_net_only_when_the_codebook_says_so():
    same, near = unit_vector(1, 0, 0), unit_vector(1, 0.05, 0)
    units, assignments, vectors, responses = case(
        {
            "mesure": [("r1", same)],
            "reconnaissance": [("r2", same)],
            "indicateurs": [("r3", near)],
            "temps": [("r4", unit_vector(0, 1, 0)), ("r5", unit_vector(0, 0, 1))],
        }
    )
    themes = [
        Theme("mesure", "Mesure", [], from_codebook=True),
        Theme("reconnaissance", "Reconnaissance", [], from_codebook=True),
        Theme("indicateurs", "Indicateurs", []),
        Theme("temps", "Temps", []),
    ]
    by_id = {t.theme_id: t for t in ranked(themes, units, assignments, vectors, responses)}
    assert by_id["mesure"].net_id != by_id["reconnaissance"].net_id
    # a code found joins the analyst's code nearest to it, under that code's name
    assert by_id["indicateurs"].net_label in {"Mesure", "Reconnaissance"}
    assert by_id["indicateurs"].net_id in {by_id["mesure"].net_id, by_id["reconnaissance"].net_id}
