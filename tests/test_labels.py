from pathlib import Path

import pytest
import yaml

from pipeline.labels import is_word_form, label_problems, readable_keyword, with_accents, written_words
from pipeline.records import OTHER_LABEL

CODEBOOKS = sorted((Path(__file__).resolve().parent.parent / "data" / "verbatims").glob("*.codebook.yaml"))
CODEBOOK_LABELS = [theme["label"] for path in CODEBOOKS for theme in yaml.safe_load(path.read_text())["themes"]]


@pytest.mark.parametrize(
    "label",
    ["Transparence · transparence transparence · transparence total", "Trop · spot · presse", "Manqu · np", "Temps temps"],
)
def test_keyword_lists_from_the_issue_are_flagged(label):
    assert label_problems(label)


@pytest.mark.parametrize(
    "label",
    ["Bilan annuel des dépenses", "Cour des comptes", "Sponsoring de la direction", OTHER_LABEL, *CODEBOOK_LABELS],
)
def test_coders_codes_are_not_flagged(label):
    assert label_problems(label) == []


def test_codebook_labels_were_found():
    assert len(CODEBOOK_LABELS) >= 9


def test_each_problem_is_named():
    (separator, foreign) = label_problems("Manqu · np")
    assert "·" in separator and foreign.endswith("Manqu, np")
    assert label_problems("Temps temps") == ["mot répété : temps"]
    assert label_problems("Transparence") == ["1 mot(s) : un code tient en 2 à 6 mots"]
    assert label_problems("Baisser les impôts des ménages les plus modestes du pays")[0].startswith("10 mot(s)")


def test_stop_words_may_repeat_but_content_words_may_not():
    assert label_problems("Cour des comptes et des régions") == []
    assert label_problems("Impôts justes et impôts simples") == ["mot répété : impôts"]


@pytest.mark.parametrize(
    "token",
    ["nombre", "liste", "glyphosate", "TVA", "ISF", "Allemagne", "Etat", "Egalité", "peut-être", "impôts", "priorisation"],
)
def test_french_words_acronyms_and_proper_nouns_are_word_forms(token):
    assert is_word_form(token)


@pytest.mark.parametrize("token", ["manqu", "np", "fiscalit", "impot", "etat", "homm", "hopitau", "voil", "nb", "bcp"])
def test_stems_abbreviations_and_missing_accents_are_not(token):
    assert not is_word_form(token)


def test_elisions_and_hyphens_are_read_as_french():
    assert label_problems("Rétablir l'ISF") == []
    assert label_problems("Lorsqu'on paie trop") == []
    assert label_problems("Suppression de l'impot")[0].endswith(": impot")


def test_keywords_keep_words_the_answers_write_and_drop_stems_and_repeats():
    written = written_words(["Le COMEX doit suivre", "Il manque du temps"])
    assert readable_keyword("comex", written)  # not in the dictionary, but written (as an acronym)
    assert readable_keyword("manque temps", written)
    assert not readable_keyword("manqu", written)  # a lemmatiser's stem, written nowhere
    assert not readable_keyword("temps temps", written)
    assert not readable_keyword("manqu moyen", written)


def test_accents_a_writer_left_out_are_put_back_and_nothing_else_changes():
    restored = [with_accents(w) for w in ("laicité", "Laicite", "impot", "interets")]
    assert restored == ["laïcité", "Laïcité", "impôt", "intérêts"]
    kept = ("payer", "ou", "GAFAM", "Etat", "manqu")  # known forms, an acronym, a capital without accent, a stem
    assert [with_accents(w) for w in kept] == list(kept)


def test_a_theme_with_no_shared_phrase_is_named_after_a_central_answer_with_its_accents():
    from pipeline.clean import load_spacy
    from pipeline.naming import PhraseLabeller

    docs = list(load_spacy().pipe(["Application stricte de la laicité partout", "Laicité !"]))
    assert PhraseLabeller._fallback(docs, set()) == "Application stricte de la laïcité partout"


def test_a_central_answer_ending_on_a_word_that_needs_more_is_no_name_and_où_gets_its_accent():
    from pipeline.clean import load_spacy
    from pipeline.naming import PhraseLabeller

    nlp = load_spacy()
    docs = list(nlp.pipe(["La laicité est la !", "Expliquer simplement ou va l'argent"]))
    assert PhraseLabeller._fallback(docs, set()) == "Expliquer simplement où va l'argent"
    # "ou" between two infinitives is the conjunction
    assert PhraseLabeller._fallback(list(nlp.pipe(["Payer ou réduire les impôts"])), set()) == "Payer ou réduire les impôts"


def test_a_central_answer_opening_on_a_pronoun_or_cut_by_an_ellipsis_is_no_name():
    """FI7's fallbacks "Le supprimer" and "Des colères ... trop souvent non justifiées"; "Rien de mieux" is a code."""
    from pipeline.clean import load_spacy
    from pipeline.naming import PhraseLabeller

    nlp = load_spacy()
    texts = ["Le supprimer", "Cela fonction bien en France", "Des colères ... trop souvent non justifiées", "Rien de mieux"]
    assert PhraseLabeller._fallback(list(nlp.pipe(texts)), set()) == "Rien de mieux"
    # an ellipsis at the end is no cut, whichever way it is typed; the impersonal "il" opens a label
    for text, label in [("Trop de taxes…", "Trop de taxes"), ("Il y a trop de gaspillage", "Il y a trop de gaspillage")]:
        assert PhraseLabeller._fallback(list(nlp.pipe([text])), set()) == label


def test_a_shouted_central_answer_is_written_in_lower_case_with_its_accents_and_acronyms():
    from pipeline.clean import load_spacy
    from pipeline.naming import PhraseLabeller

    nlp = load_spacy()
    cases = [
        ("PLUS DE CONTROLE SUR LA TVA >", "plus de contrôle sur la TVA"),
        ("IMPOT POUR TOUS", "impôt pour tous"),
        ("Supprimer l'URSSAF", "Supprimer l'URSSAF"),  # capitals in a unit not shouted are the writer's acronyms
    ]
    for text, label in cases:
        assert PhraseLabeller._fallback(list(nlp.pipe([text])), set()) == label


def test_a_wish_is_named_without_its_il_faut():
    """TE13's theme "Il faut changer de modèle d'agriculture"."""
    from pipeline.clean import load_spacy
    from pipeline.naming import PhraseLabeller

    nlp = load_spacy()
    assert PhraseLabeller._fallback(list(nlp.pipe(["Il faut changer de modèle d'agriculture."])), set()) == (
        "changer de modèle d'agriculture"
    )
    for whole in ("Il faut que l'État paie", "Il faut payer"):  # no infinitive, or nothing left without "il faut"
        assert PhraseLabeller._fallback(list(nlp.pipe([whole])), set()) == whole
