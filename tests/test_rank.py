from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis import Analysis
from pipeline.nets import add_nets
from pipeline.rank import QUOTES_PER_THEME, pick_quotes, rank_themes, trim_quote
from pipeline.records import Assignment, IdeaUnit, Response, Theme


def unit(uid, rid, text):
    return IdeaUnit(uid, rid, text, "")


def test_a_respondent_counts_once_per_theme_and_shares_are_by_segment():
    units = [
        unit("a#1", "a", "Du temps"),
        unit("a#2", "a", "Encore du temps"),
        unit("b", "b", "Du budget"),
        unit("c", "c", "Des moyens"),
        unit("d", "d", "Autre chose"),
    ]
    vectors = np.eye(5)
    themes = [Theme("temps", "Temps", []), Theme("moyens", "Moyens", []), Theme("autres", "Autres", [])]
    assignments = [
        Assignment("a#1", "temps", 0.9),
        Assignment("a#2", "temps", 0.8),
        Assignment("b", "moyens", 0.9),
        Assignment("c", "moyens", 0.7),
        Assignment("d", "autres", 0.1),
    ]
    responses = [
        Response("a", "", {"niveau": "x"}),
        Response("b", "", {"niveau": "x"}),
        Response("c", "", {"niveau": "y"}),
        Response("d", "", {"niveau": "y"}),
    ]
    ranked = rank_themes(themes, assignments, units, vectors, responses, ["niveau"])
    assert [(t.theme_id, t.rank, t.n_respondents, t.n_units, t.share) for t in ranked] == [
        ("moyens", 1, 2, 2, 0.5),
        ("temps", 2, 1, 2, 0.25),
        ("autres", 3, 1, 1, 0.25),
    ]
    assert ranked[0].segments == {"niveau": {"x": 0.5, "y": 0.5}}
    assert ranked[1].segments == {"niveau": {"x": 0.5, "y": 0.0}}
    assert ranked[0].quotes == ["Du budget", "Des moyens"]


@pytest.fixture(scope="module")
def analysed(sample_dataset, codebook):
    """The sample through every stage in this process, as benchmarks run it."""
    return Analysis(codebook=codebook).run(sample_dataset)


def test_the_composition_chains_the_stages(analysed, sample_clean, sample_vectors, sample_dataset, codebook, seeds):
    from pipeline.analysis import DEFAULT_LABEL_CODER, DEFAULT_REFINER
    from pipeline.themes import find_themes

    assert analysed.cleaned == sample_clean and np.array_equal(analysed.vectors, sample_vectors)
    found = find_themes(sample_clean.units, sample_vectors, codebook, seeds)
    refined = DEFAULT_REFINER.refine(found, sample_clean.units, sample_vectors)
    result = DEFAULT_LABEL_CODER.code(refined, sample_clean.units, sample_vectors, range(len(sample_clean.units)))
    assert analysed.clustered.assignments == result.assignments  # (ranking filled in its themes' figures)
    assert analysed.clustered.parameters == result.parameters
    ranked = rank_themes(
        result.themes,
        result.assignments,
        sample_clean.units,
        sample_vectors,
        sample_dataset.responses,
        sample_dataset.segment_columns,
    )
    assert analysed.themes == add_nets(ranked, result.assignments, sample_clean.units, sample_vectors, codebook.nets)


def test_quotes_are_close_diverse_and_readable(analysed):
    ranked = analysed.themes
    for theme in ranked:
        if theme.n_units >= 5:
            assert 3 <= len(theme.quotes) <= QUOTES_PER_THEME, theme.label
        assert len({q.lower() for q in theme.quotes}) == len(theme.quotes), "no quote twice"
        assert all(len(q) <= 282 for q in theme.quotes)
    moyens = next(t for t in ranked if t.theme_id == "moyens")
    assert sum(any(w in q.lower() for w in ("moyen", "budget", "ressource")) for q in moyens.quotes) >= 3
    assert set(moyens.segments) == {"maturite", "secteur"}
    assert "naissante" in moyens.segments["maturite"]


def test_no_quote_holds_a_masked_token_while_the_theme_has_another_candidate():
    texts = ["Appelez [NOM] au [TÉLÉPHONE]", "Écrire à [EMAIL]", "Un vrai suivi des réclamations", "Voir [URL]"]
    vectors = np.eye(4)
    scores = np.array([0.99, 0.98, 0.5, 0.97])
    assert pick_quotes(np.arange(4), scores, vectors, texts) == ["Un vrai suivi des réclamations"]
    assert pick_quotes(np.array([1]), scores, vectors, texts) == ["Écrire à [EMAIL]"]  # nothing else to quote


def test_long_quotes_are_trimmed_at_a_word():
    text = "mot " * 100
    trimmed = trim_quote(text, limit=30)
    assert trimmed.endswith(" …") and len(trimmed) <= 32 and "mo …" not in trimmed


def test_the_question_given_titles_the_report_before_the_codebooks(analysed, codebook, sample_dataset):
    from pipeline.export import markdown_report

    analysis = Analysis(codebook=codebook)
    asked = analysis.manifest("r1", Path("vague.csv"), analysed, None, {}, "Que faudrait-il changer ?")
    assert asked.question == "Que faudrait-il changer ?"
    report = markdown_report(analysed.themes, asked, [], analysed.bundle(asked).nets)
    assert report.startswith("# Thèmes : Que faudrait-il changer ?")
    assert analysis.manifest("r1", Path("vague.csv"), analysed, None, {}).question == codebook.question
    assert Analysis().manifest("r1", Path("vague.csv"), analysed, None, {}).title == "vague"  # the file name, as named
