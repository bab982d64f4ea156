"""Does a theme label read as a coder's code ("Bilan annuel des dépenses") or as a keyword list ("Manqu · np")?

``label_problems`` lists what is wrong with a label, in French (the review screens may show it). Its rules
are issue 15's definition of a keyword-list label:

- words joined by " · " (how keyword labels are built);
- fewer than 2 or more than 6 words: a code is a short phrase;
- a content word written twice ("Temps temps"), compared case-insensitively on the surface form;
  French stop words may repeat ("Cour des comptes et des régions");
- a token that is not a French word form: a stem ("manqu"), a stray abbreviation ("np") or a word
  written without its accents ("impot").

What counts as a French word form, from ``fr_core_news_md`` alone (no dictionary dependency):

1. a form or lemma of the lemmatizer's tables (lemma_lookup: 217k inflected forms, lemma_index and
   lemma_exc), or a spaCy stop word. These tables miss everyday words ("nombre", "liste", "glyphosate");
2. so also, from 4 letters on, one of the 50,000 most frequent words of the vectors' training corpus,
   unless the same word with accents is more frequent there ("impot" after "impôt", "etat" after "état").
   Frequency alone is not enough: the 500,000 vector keys include web stems ("voil" ranks 76,821, "np"
   154,428, "manqu" 223,440, "fiscalit" 366,385), and short frequent tokens are abbreviations ("nb", "bcp");
3. a word in capitals is an acronym ("TVA", "CRM"); a capitalised word is also read as its exact form
   (proper nouns) and with an accented capital ("Etat", "Egalité"). A stem in capitals would pass: labels
   built from lowercase lemmas do not produce one.

Measured: no codebook label of data/verbatims/*.codebook.yaml is flagged. Of elf_dev.csv's 191 human theme
labels, 33 are: 7 for a token, each a misspelling ("Supression", "Impots", "modele", "energies"), 25 more for
their length alone (coders do write "Transparence") and 1 for a repeated word ("Nouvelle loi / refonte loi
1905"). Of the answers' word tokens, 2.4% fail in lowercase: acronyms in lowercase ("tva", "isf"), words
without accents ("impot", "laicite"), typos. Of the 6,620 lemma types spaCy gives for those answers, 86 pass
by rule 2 only: mostly proper nouns and foreign words, a few stems ("temp", "plusieur", "trice").
A label should write acronyms in capitals and keep accents.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from pipeline.clean import load_spacy
from pipeline.records import OTHER_LABEL

LIST_SEPARATOR = " · "
# "plus de transparence", "moins de clientélisme", "pas de prêche": how coders write a wish for more or less. Stop
# words, yet part of the code: "plus d'impôt" and "moins d'impôt" are two.
QUANTITIES = {"plus", "moins", "davantage", "pas"}
MIN_WORDS, MAX_WORDS = 2, 6
_LETTERS = re.compile(r"[^\W\d_]+")
_APOSTROPHES = "'’"
FREQUENT_WORDS = 50_000  # of the vectors' 500,000 keys: the stems seen ("voil", "np", "manqu") rank past 75,000
MIN_FREQUENT_LENGTH = 4
_ACCENTED_CAPITALS = {"e": "éèê", "a": "àâ", "i": "îï", "o": "ô", "u": "ùû", "c": "ç"}


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[object, frozenset[str], dict[int, int], dict[str, tuple[int, str]], object]:
    """The lemmatizer's lookup table, the other known forms, the frequent words' ranks by hash, the best rank of
    an accented word by its unaccented spelling, the string store."""
    nlp = load_spacy()
    lookups = nlp.get_pipe("lemmatizer").lookups
    known: set[str] = set(nlp.Defaults.stop_words)
    for lemmas in lookups.get_table("lemma_index").values():
        known.update(lemmas)
    for exceptions in lookups.get_table("lemma_exc").values():
        for form, lemmas in exceptions.items():
            known.add(form)
            known.update(lemmas)
    # the vector keys are stored in frequency order (those of rank under 20,000 kept their own row)
    rank = {key: i for i, key in enumerate(itertools.islice(nlp.vocab.vectors.key2row, FREQUENT_WORDS))}
    accented: dict[str, tuple[int, str]] = {}  # unaccented spelling -> the rank and form of its best accented word
    for key, i in rank.items():
        form = nlp.vocab.strings[key] if key in nlp.vocab.strings else ""  # noqa: SIM401 (StringStore has no get)
        if _unaccented(form) != form:
            accented.setdefault(_unaccented(form), (i, form))
    return lookups.get_table("lemma_lookup"), frozenset(known), rank, accented, nlp.vocab.strings


def _known(form: str) -> bool:
    lookup, known, rank, accented, strings = _vocabulary()
    if form in known or form in lookup:
        return True
    # frequent, unless its accented spelling is more so: "impot", "etat" are "impôt", "état" without accents;
    # short frequent tokens are mostly abbreviations ("nb", "bcp", "ds"), and the tables hold the short words
    if len(form) < MIN_FREQUENT_LENGTH:
        return False
    return rank.get(strings.add(form), FREQUENT_WORDS) < accented.get(form, (FREQUENT_WORDS, ""))[0]


def with_accents(word: str) -> str:
    """``word`` as French writes it when its writer left out an accent ("laicité", "impot": "laïcité", "impôt"),
    its capital kept; any other word as it is."""
    if is_word_form(word):
        return word
    _, _, _, accented, _ = _vocabulary()
    form = accented.get(_unaccented(word.lower()), (0, ""))[1].lower()
    if not form:
        return word
    return form[:1].upper() + form[1:] if word[:1].isupper() else form


def is_word_form(token: str) -> bool:
    """A run of letters that French writes: a known form, an acronym or a frequent proper noun."""
    if len(token) > 1 and token.isupper():
        return True
    lower = token.lower()
    if _known(lower):
        return True
    # capitals often go without their accent: "Etat", "Egalité", "A la" are "État", "Égalité", "À la"
    capital = [accented + lower[1:] for accented in _ACCENTED_CAPITALS.get(lower[:1], "")]
    return token[:1].isupper() and (_known(token) or any(_known(form) for form in capital))


def _elided(part: str) -> bool:
    """An elided article or conjunction ("l", "qu", "lorsqu" before an apostrophe): known with its final e."""
    return _known(part.lower() + "e") or _known(part.lower() + "'")


def _foreign_tokens(word: str) -> list[str]:
    """The parts of one whitespace-separated word that are not French word forms."""
    if is_word_form(word) or _known(word.lower()):
        return []  # hyphenated forms such as "peut-être" are in the tables whole
    bad = []
    for match in _LETTERS.finditer(word):
        part, after = match.group(), word[match.end() : match.end() + 1]
        if after and after in _APOSTROPHES and _elided(part):
            continue
        if not is_word_form(part):
            bad.append(part)
    return bad


def _words(label: str) -> list[str]:
    """Whitespace-separated words with a letter or a digit: the " · " separators are not words."""
    return [w for w in label.split() if re.search(r"\w", w)]


def _content_forms(text: str, kept: Iterable[str] = ()) -> list[str]:
    """The runs of letters of ``text``, lower-cased, but stop words (other than those ``kept``) and single letters."""
    stop_words = load_spacy().Defaults.stop_words.difference(kept)
    return [f for f in (m.lower() for m in _LETTERS.findall(text)) if f not in stop_words and len(f) > 1]


def repeated_words(words: list[str]) -> list[str]:
    """Content words written more than once, case-insensitively; stop words may repeat."""
    forms = _content_forms(" ".join(words))
    return sorted({f for f in forms if forms.count(f) > 1})


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("french")


def same_code_key(label: str) -> frozenset[str]:
    """What a coder reads in a label, so that "Appliquer la loi" and "Application de la loi" name one code (DC13
    had both, apart): its words but stop words (quantities kept: "plus" and "moins" of a thing are two codes),
    each cut to its Snowball stem."""
    return frozenset(_stemmer().stemWords(_content_forms(label, QUANTITIES)))


def written_words(texts: Iterable[str]) -> set[str]:
    """Every run of letters the answers write, lowercased: the forms a reader has seen, acronyms included."""
    return {match.group().lower() for text in texts for match in _LETTERS.finditer(text)}


def readable_keyword(keyword: str, written: set[str]) -> bool:
    """A keyword (lemma n-gram) a reader recognises: no word twice ("temps temps"), and every word a French word
    form or one the answers write ("comex" is written as "COMEX"; the lemmatiser's "manqu" is written nowhere)."""
    words = keyword.split()
    return len(set(words)) == len(words) and all(not _foreign_tokens(w) or w in written for w in words)


def label_problems(label: str) -> list[str]:
    """Why ``label`` reads as a keyword list rather than a coder's code; empty when it reads as a code."""
    if label.strip() == OTHER_LABEL:
        return []  # the explicit catch-all keeps its one-word name, as in coders' code frames
    problems = []
    if LIST_SEPARATOR.strip() in label:
        problems.append("liste de mots-clés séparés par « · »")
    words = _words(label)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        problems.append(f"{len(words)} mot(s) : un code tient en {MIN_WORDS} à {MAX_WORDS} mots")
    repeated = repeated_words(words)
    if repeated:
        problems.append("mot répété : " + ", ".join(repeated))
    foreign = [token for word in words for token in _foreign_tokens(word)]
    if foreign:
        problems.append("pas une forme du français (racine, abréviation ou accent manquant) : " + ", ".join(foreign))
    return problems
