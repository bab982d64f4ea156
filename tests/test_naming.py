import re
import unicodedata

import numpy as np
import pytest

from pipeline.clean import lemmatize
from pipeline.labels import label_problems
from pipeline.naming import PhraseLabeller
from pipeline.records import OTHER_ID, OTHER_LABEL, IdeaUnit
from pipeline.themes import find_themes


def _units(texts: list[str], prefix: str) -> list[IdeaUnit]:
    lemmas = lemmatize(texts)
    return [IdeaUnit(f"{prefix}{i}", f"{prefix}{i}", t, lem) for i, (t, lem) in enumerate(zip(texts, lemmas, strict=True))]


def _plain(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


@pytest.fixture(scope="module")
def sample_themes(sample_clean, sample_vectors):
    return find_themes(sample_clean.units, sample_vectors).themes


def test_sample_labels_read_as_codes(sample_themes, sample_clean):
    named = [t for t in sample_themes if t.theme_id != OTHER_ID]
    assert named and all(not t.from_codebook for t in named)
    for theme in named:
        assert " · " not in theme.label
        assert not label_problems(theme.label), (theme.label, label_problems(theme.label))  # 2 to 6 words, none twice
    assert len({t.label.lower() for t in named}) == len(named), "two themes share a label"
    assert next(t.label for t in sample_themes if t.theme_id == OTHER_ID) == OTHER_LABEL


def test_sample_labels_keep_the_accents_of_the_answers(sample_themes, sample_clean):
    written = {w.lower() for u in sample_clean.units for w in re.findall(r"[^\W\d_]+", u.text)}
    accented = {_plain(w): w for w in written if _plain(w) != w}
    words = [w.lower() for t in sample_themes for w in re.findall(r"[^\W\d_]+", t.label)]
    assert any(w != _plain(w) for w in words), "no label keeps an accent"
    for word in words:
        assert word in written or _plain(word) not in accented, f"{word!r} lost the accent of {accented[_plain(word)]!r}"


def test_a_theme_is_named_after_the_phrase_its_answers_repeat():
    theme = [
        "Le bilan annuel des dépenses publiques devrait être envoyé à chacun.",
        "Publier un bilan annuel des dépenses publiques.",
        "Un bilan annuel des dépenses publiques, clair et lisible.",
        "Je voudrais recevoir le bilan annuel des dépenses publiques.",
        "Envoyer chaque année le bilan annuel des dépenses publiques par courrier.",
    ]
    rest = [
        "Baisser les impôts des classes moyennes.",
        "Supprimer les niches fiscales des plus riches.",
        "Taxer les grandes entreprises du numérique.",
        "Simplifier la déclaration de revenus.",
        "Lutter contre la fraude fiscale.",
    ]
    units = _units(theme + rest, "u")
    clusters = np.array([0] * len(theme) + [1] * len(rest))
    scores = np.ones(len(units))
    labels = PhraseLabeller().label(units, clusters, scores, [0])
    assert "bilan annuel" in labels[0].lower(), labels


def test_two_themes_saying_the_same_get_distinct_labels():
    texts = ["Plus de transparence sur les dépenses."] * 4 + ["Plus de transparence sur les comptes publics."] * 4
    units = _units(texts + ["Baisser la TVA.", "Taxer les riches."], "u")
    clusters = np.array([0] * 4 + [1] * 4 + [2, 2])
    labels = PhraseLabeller().label(units, clusters, np.ones(len(units)), [0, 1])
    assert labels[0].lower() != labels[1].lower()
    assert not any(label_problems(label) for label in labels.values())


def test_no_phrase_ends_on_a_locution_s_noun_or_starts_with_a_word_the_tagger_mistakes_for_one():
    """FI8's codes were named "Taxer de façon", "Meme symbolique" and "Merci contre la fraude"."""
    from pipeline.clean import load_spacy
    from pipeline.naming import phrases

    texts = ["Taxer de façon équitable", "Meme symbolique", "Merci contre la fraude fiscale", "Un niveau de vie"]
    found = [{p.surface for p in phrases(doc)} for doc in load_spacy().pipe(texts)]
    assert "taxer de façon" not in found[0] and "taxer de façon équitable" in found[0]
    assert not any(s.startswith(("meme", "merci")) for s in found[1] | found[2])
    assert "fraude fiscale" in found[2]
    assert "niveau de vie" in found[3]  # inside a phrase, the locution's noun stays


def test_a_label_is_written_in_a_form_that_agrees_however_many_answers_forgot_the_s():
    """FI8's codes were named "CICE aux entreprise" and "Haut salaires": one of the two forms read, the shorter."""
    from pipeline.clean import load_spacy
    from pipeline.naming import phrases

    theme = ["Supprimer le CICE aux entreprise rentables.", "Arrêter de verser le CICE aux entreprises."] * 2
    rest = ["Baisser la TVA.", "Taxer les riches.", "Lutter contre la fraude fiscale."]
    units = _units(theme + rest, "u")
    clusters = np.array([0] * len(theme) + [1] * len(rest))
    labels = PhraseLabeller().label(units, clusters, np.ones(len(units)), [0])
    assert labels[0] == "CICE aux entreprises", labels
    # a noun the same in both numbers agrees with either: the tagger calls the "pays" of "pays européens" singular;
    # an adjective agrees with the noun it goes with, which need not be the one before it
    for text in ("les pays européens", "les droits de succession élevés", "les frais de scolarité élevés"):
        assert max(phrases(load_spacy()(text)), key=lambda p: len(p.surface)).agrees, text


def test_no_phrase_is_headed_by_a_locution_s_noun_nor_a_stop_word_tagged_as_a_name():
    """FI7 had a code "Mise en place" (8% of its answers), FI8 codes "Tenir compte" and "Pays Hors" ("Hors UE")."""
    from pipeline.clean import load_spacy
    from pipeline.naming import phrases

    texts = ["La mise en place d'un bilan annuel", "Tenir compte des revenus", "les entreprises des pays Hors UE"]
    found = [{p.surface for p in phrases(doc)} for doc in load_spacy().pipe(texts)]
    assert found[0] == {"bilan annuel"}
    assert found[1] == set()
    assert not any(s.lower().endswith("hors") for s in found[2]) and "entreprises des pays" in found[2]
    # nouns after a light verb that make no locution with it, and the light nouns outside "mise en", stay
    kept = ["Avoir accès aux soins", "Tenir permanences sur place", "Une prise de conscience écologique"]
    found = [{p.surface for p in phrases(doc)} for doc in load_spacy().pipe(kept)]
    assert "accès aux soins" in found[0] and "permanences sur place" in found[1] and "prise de conscience" in found[2]


def test_a_stop_word_beside_one_content_word_names_nothing_and_ends_no_phrase():
    """FI7's "Bas revenus" named units saying "impôt sur le revenu": "bas" is a stop word, no unit's lemma."""
    from pipeline.clean import load_spacy
    from pipeline.naming import phrases

    found = {p.surface for p in phrases(load_spacy()("un effort en direction des bas revenus"))}
    assert found == {"effort en direction", "effort en direction des bas revenus", "direction des bas revenus"}
    # but for the nouns spaCy lists as stop words
    assert {p.surface for p in phrases(load_spacy()("Responsabiliser les gens"))} == {"responsabiliser les gens"}
