"""Phrase labels for themes no codebook names: a short French phrase a coder would write, not a keyword list.

A theme is named after the noun or verb phrase its answers use that is most characteristic of it: the share
of its idea units holding the phrase's content lemmas, weighed against the share of all other units holding
them. Phrases are read from the theme's most central units with the tagger the cleaning step already loaded
(part-of-speech patterns: spaCy's French ``noun_chunks`` needs the parser, which cleaning leaves out for
speed), and each phrase is written in the surface form those units use most, accents and all.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from pipeline.labels import MAX_WORDS, QUANTITIES, is_word_form, label_problems, with_accents
from pipeline.records import IdeaUnit

# One letter per token, so that phrase shapes are regular expressions over the letters. Adjectives that are
# stop words ("autres", "telle", "même": letter "a") stand before their noun only: "laïcité telle [que]" is cut.
PREPOSITIONS = {"de", "d'", "des", "du", "à", "au", "aux", "en", "sur", "pour", "contre", "par", "entre", "avec", "sans"}
ARTICLES = {"le", "la", "l'", "les", "un", "une"}
# "de" + article in one word: the tagger calls them ADP or DET from one answer to the next.
CONTRACTIONS = {"des", "du", "au", "aux"}
MAX_ACRONYM = 5  # letters: GAFAM, CICE, ISF; longer words in capitals in elf_dev are shouted words
# "pas" opens a wish ("Pas de voile") only at the start of an idea: "[ne paient] pas d'impôts" says the opposite
# of its theme (FI8's "Impôt pour tous" theme was named "Pas d'impôts" before this rule).
EVERYONE = {"tous", "toutes", "chacun"}  # "impôt pour tous": FI8's most frequent human code
# Verbs that say nothing without what follows the noun: "rendre l'impôt [plus juste]", "mettre en place", "tenir
# compte" (see LOCUTION_OBJECTS).
LIGHT_VERBS = {"rendre", "faire", "mettre", "avoir", "être", "donner", "prendre", "aller", "pouvoir", "devoir", "tenir"}
# Nouns of a locution that need what follows them: "taxer de façon [juste]", "à hauteur de", "par rapport à". A
# phrase may hold them ("niveau de vie", "rapport annuel") but not end on them (FI8 had codes "Taxer de façon" and
# "Réduire le nombre" ["de niches"]).
LOCUTION_NOUNS = {"façon", "manière", "hauteur", "fonction", "rapport", "niveau", "sorte", "égard", "nombre"}
# Words the tagger takes for nouns at the start of an answer that head no phrase a coder would write: FI8 had codes
# "Meme symbolique" ("[même] symbolique", accent missing) and "Merci contre la fraude" ("Merci [de lutter] contre");
# DC13 one "Ferme vis" ("ferme vis à vis des dérives", written without hyphens).
NEVER_NOUNS = {"même", "meme", "merci", "vis"}
# Nouns (and participles) of light verbs before "en", which say nothing without their complement: FI7 had a code
# "Mise en place" ["d'un bilan"], 8% of its answers. Neither they nor the noun of their locution ("en place", "en
# compte") head a phrase; "prise de conscience" and "mise à jour" stay.
LIGHT_NOUNS = {"mise", "mises", "mis", "prise", "prises", "pris"}
# The nouns a light verb makes a locution with ("tenir compte", "mettre fin", "faire face"): FI8 had a code "Tenir
# compte" ["de la situation familiale"]. Others after a light verb stay ("avoir accès aux soins").
LOCUTION_OBJECTS = {"compte", "place", "fin", "preuve", "part", "face", "appel", "lieu", "cours", "charge", "œuvre"}
STOP_WORD_NOUNS = {"gens", "personne"}  # nouns in spaCy's French stop words
# Articles and "de" + article that say a plural ("aux entreprises") or a singular ("au contribuable").
PLURAL_ARTICLES = {"les", "des", "aux"}
SINGULAR_ARTICLES = {"le", "la", "l'", "un", "une", "du", "au"}
# Parts of speech a label cannot end on: they need what follows them ("est la", "pour le", "qui").
DANGLING = {"DET", "ADP", "PRON", "CCONJ", "SCONJ", "AUX"}
# Pronouns a central unit cannot open with to name its theme: they stand for what another sentence said
# (ANAPHORS: "Le supprimer", "Cela fonction bien en France", FI7's and DC13's fallbacks) or for the writer or reader
# (PERSONS: "Je n'en ai rien a faire"). The impersonal "il" ("Il y a trop d'abus"), "on", "rien" and "tout" stay:
# "Rien de mieux" is a code.
ANAPHORS = {"le", "la", "les", "l'", "lui", "leur", "y", "en", "cela", "ça", "ceci", "elle", "ils", "elles"}
PERSONS = {"je", "j'", "tu", "nous", "vous"}
ELLIPSES = ("...", "…")  # "Des colères ... trop souvent non justifiées": a cut, not a code
LABEL_EDGES = " .!?…,;:\"'-<>«»*"  # what a central answer's label is stripped of at both ends
SHOUTING = 0.8  # a unit with more capitals than this share of its letters is shouted: "PLUS DE LISIBILITE"
_CORE = r"[Aa]?NN?A{0,2}"  # a noun with its adjectives or an apposed noun: "bilan annuel", "site internet"
_NOUN_PHRASE = rf"{_CORE}(?:PD?{_CORE}){{0,2}}(?:PT)?"  # "bilan annuel des dépenses", "cour des comptes"
_VERB_PHRASE = rf"V[DP]?(?:{_CORE}|A)(?:PD?{_CORE})?"  # "supprimer les niches fiscales", "taxer les riches"
_QUANTITY_PHRASE = rf"QP{_CORE}(?:PD?{_CORE})?"
PHRASE_SHAPE = re.compile(rf"{_NOUN_PHRASE}|{_VERB_PHRASE}|{_QUANTITY_PHRASE}")


def _letter(token) -> str:
    lower = token.lower_
    if not token.is_alpha or len(token) < 2:
        return "P" if lower in PREPOSITIONS else "D" if lower in ARTICLES else "x"
    if lower in NEVER_NOUNS or (lower in LIGHT_NOUNS and _before_en(token)):
        return "x"
    if token.pos_ in ("NOUN", "PROPN"):
        # "aux pays Hors UE" (a stop word is no noun), "tenir compte"
        return "x" if (token.pos_ == "PROPN" and token.is_stop) or _in_locution(token) else "N"
    if token.pos_ == "ADJ":
        return "a" if token.is_stop else "A"
    if lower in QUANTITIES and (lower != "pas" or _opens(token)):
        return "Q"
    if lower in EVERYONE:
        return "T"
    if lower in CONTRACTIONS or (token.pos_ == "ADP" and lower in PREPOSITIONS):
        return "P"
    if token.pos_ == "DET" and lower in ARTICLES:
        return "D"
    if token.pos_ == "VERB" and "Inf" in token.morph.get("VerbForm") and token.lemma_ not in LIGHT_VERBS:
        return "V"
    return "x"


def _before_en(token) -> bool:
    return token.i + 1 < len(token.doc) and token.doc[token.i + 1].lower_ == "en"


def _in_locution(token) -> bool:
    """The noun of a light verb's or noun's locution: "tenir compte", "mettre fin", "mise en place", "prise en
    charge"."""
    doc, i = token.doc, token.i
    before = doc[i - 1] if i else None
    if before is not None and before.lower_ == "en" and i > 1:  # "mise en place", "prendre en compte"
        before = doc[i - 2]
        if before.lower_ in LIGHT_NOUNS:
            return True
    return before is not None and before.lemma_ in LIGHT_VERBS and token.lower_ in LOCUTION_OBJECTS


def _opens(token) -> bool:
    """First word of its idea or after punctuation: "Pas de voile", "- pas de prêche"."""
    return token.i == 0 or token.doc[token.i - 1].is_punct


def _is_content(token) -> bool:
    """The rule the cleaning step keeps a lemma by, so that a phrase's lemmas can be looked up in units."""
    return token.is_alpha and not token.is_stop and len(token) > 1


def _acronym(word: str) -> bool:
    """ "TVA", "ISF", "GAFAM": short capitals that are no word in lower case ("TOUS", "LAICITE" are shouting)."""
    return word.isupper() and 1 < len(word) <= MAX_ACRONYM and not is_word_form(word.lower())


def _surface(span) -> str:
    """Lower case but for words in capitals and proper nouns ("ISF", "Europe"), the writer's accents kept."""
    words = [t.text if (t.pos_ == "PROPN" and not t.is_upper) or _acronym(t.text) else t.lower_ for t in span]
    return "".join(w + t.whitespace_ for w, t in zip(words, span, strict=True)).strip()


def _agrees(span) -> bool:
    """No article in ``span`` says another number than the word after it, and every adjective has the number of
    one of its nouns (which one it goes with, the tagger does not say: "droits de succession élevés"): "CICE aux
    entreprise" and "haut salaires" (FI8's codes, each written so by one of the two units the label was read from)
    do not agree. A word the same in both numbers ("pays", "prix") says neither: the tagger calls the "pays" of
    "pays européens" singular."""
    for left, right in zip(span, span[1:], strict=False):
        said = "Plur" if left.lower_ in PLURAL_ARTICLES else "Sing" if left.lower_ in SINGULAR_ARTICLES else None
        number = _number(right) if right.pos_ in ("NOUN", "ADJ") else None
        if said is not None and number is not None and said != number:
            return False
    nouns = {_number(t) for t in span if t.pos_ == "NOUN"}
    adjectives = {_number(t) for t in span if t.pos_ == "ADJ"} - {None}
    return not nouns or None in nouns or adjectives <= nouns  # "frais de scolarité élevés"


def _number(token) -> str | None:
    if token.lower_ == token.lemma_.lower() and token.lower_.endswith(("s", "x", "z")):
        return None  # "pays", "prix", "choix"
    return next(iter(token.morph.get("Number")), None)


def best_form(counts: Counter, agreeing: Collection[str] = ()) -> str | None:
    """The form most units write that reads as a code: "TVA sur les produits" rather than "tva sur ...",
    "payer tous" rather than a shouted "payer TOUS"; among the ``agreeing`` forms first (see ``_agrees``): a coder
    writes "CICE aux entreprises" however many answers forgot the "s"; None when no form passes
    ``label_problems``."""
    by_lower: dict[str, Counter] = defaultdict(Counter)
    for form, n in counts.items():
        by_lower[form.lower()][form] = n
    agreeing = set(agreeing)

    def order(variants: Counter) -> tuple:
        return (
            not set(variants) & agreeing,
            -variants.total(),
            len(next(iter(variants))),
            sorted(variants),
        )

    for variants in sorted(by_lower.values(), key=order):
        valid = [form for form in sorted(variants, key=lambda f: (-variants[f], f)) if not label_problems(form)]
        if valid:
            return valid[0]
    return None


class Phrase(NamedTuple):
    key: tuple[str, ...]  # its content lemmas (and quantity words), in order
    surface: str
    agrees: bool  # see _agrees


def phrases(doc, max_words: int = MAX_WORDS) -> Iterator[Phrase]:
    """Every span of ``doc`` shaped as a noun, verb or quantity phrase."""
    letters = "".join(_letter(t) for t in doc)
    longest = max_words + 3  # elided articles ("l'") are tokens but not words
    for start in range(len(doc)):
        if letters[start] not in "ANVQ":
            continue
        for end in range(start + 2, min(len(doc), start + longest) + 1):
            if PHRASE_SHAPE.fullmatch(letters, start, end) and not _needs_more(doc[end - 1]):
                span = doc[start:end]
                # the quantity stays in the key: "plus d'impôt" and "impôt pour tous" are different codes
                key = tuple(dict.fromkeys(t.lemma_.lower() for t in span if _is_content(t) or t.lower_ in QUANTITIES))
                if key and not (len(key) == 1 and _qualified(span)):
                    yield Phrase(key, _surface(span), _agrees(span))


def _qualified(span) -> bool:
    """A stop word qualifies a noun of ``span``: an adjective ("seul impôt") or one the tagger calls a noun just
    before one ("bas revenus"). Units' lemmas keep no stop word, so with a single content word the phrase would say
    what was not measured: FI7's "Bas revenus" named units saying "impôt sur le revenu". Stop words heading the
    phrase stay ("retour de l'ISF", "fait religieux"): without them FI8's code was named "Suppression de l'ISF"."""
    pairs = zip(span, span[1:], strict=False)
    return any(t.is_stop and t.pos_ == "ADJ" for t in span) or any(
        t.is_stop and t.pos_ == "NOUN" and after.pos_ == "NOUN" for t, after in pairs
    )


def _needs_more(token) -> bool:
    """A phrase cannot end on ``token``: a locution's noun ("taxer de façon [juste]") or a stop word the tagger
    calls a noun ("effort en direction des bas [revenus]"), but for the nouns spaCy lists as stop words ("payer les
    gens", "aide à la personne": 60 phrases of elf_dev's answers end on them)."""
    stop_noun = token.is_stop and token.pos_ == "NOUN" and token.lemma_.lower() not in STOP_WORD_NOUNS
    return token.lower_ in LOCUTION_NOUNS or stop_noun


class LemmaIndex:
    """Which units hold every lemma of a phrase, answered from one inverted index over all units."""

    def __init__(self, lemmas: Sequence[str]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, text in enumerate(lemmas):
            for lemma in set(text.split()):
                postings[lemma].append(i)
        self.postings = {lemma: np.array(rows) for lemma, rows in postings.items()}
        self.empty = np.array([], dtype=int)

    def holding(self, key: Iterable[str]) -> np.ndarray:
        rows: np.ndarray | None = None
        for lemma in key:
            found = self.postings.get(lemma, self.empty)
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
        return self.empty if rows is None else rows


class PhraseLabeller:
    """Names each theme after its most characteristic phrase; no two themes get the same label.

    ``n_central``: the units nearest the theme's centre that phrases are read from (parsing every unit of a
    large theme costs time and adds nothing: its wording repeats). ``min_support``: how many of them must use
    a phrase (a label one respondent wrote is not a code). ``specificity``: weight given to each extra content
    word ("bilan annuel des dépenses" over "bilan annuel" when nearly as characteristic).
    """

    def __init__(self, n_central: int = 50, min_support: int = 2, specificity: float = 0.3) -> None:
        self.n_central = n_central
        self.min_support = min_support
        self.specificity = specificity

    def label(
        self, units: Sequence[IdeaUnit], clusters: np.ndarray, scores: np.ndarray, to_name: Iterable[int]
    ) -> dict[int, str]:
        """A label for each cluster of ``to_name``; ``clusters`` and ``scores`` give each unit's cluster and
        its similarity to that cluster's centre. Bigger themes choose first."""
        clusters = np.asarray(clusters)
        sizes = Counter(clusters.tolist())
        order = sorted(to_name, key=lambda c: (-sizes[c], c))
        central = {c: self._central(clusters, np.asarray(scores), c) for c in order}
        docs = iter(self._parse([units[i].text for c in order for i in central[c]]))
        index = LemmaIndex([u.lemmas for u in units])
        labels: dict[int, str] = {}
        taken: set = set()
        for c in order:
            theme_docs = [next(docs) for _ in central[c]]
            ranked = self.ranked(theme_docs, index, clusters == c)
            free = ((k, s) for k, s in ranked if k not in taken and s.lower() not in taken)
            key, surface = next(free, (None, None))
            surface = surface or self._fallback(theme_docs, taken)
            taken.update({key, surface.lower()})
            labels[c] = surface[:1].upper() + surface[1:]
        return labels

    def ranked(self, docs, index: LemmaIndex, inside: np.ndarray) -> list[tuple[frozenset[str], str]]:
        """(lemmas, surface form) of the phrases of ``docs``, most characteristic of the ``inside`` units first."""
        forms: dict[frozenset[str], Counter] = defaultdict(Counter)
        agreeing: set[str] = set()
        for doc in docs:
            found: dict[tuple, bool] = {}  # (key, surface) -> agrees: a form counts once per unit
            for phrase in phrases(doc):
                found[phrase.key, phrase.surface] = found.get((phrase.key, phrase.surface), False) or phrase.agrees
            for (key, surface), agrees in found.items():
                forms[frozenset(key)][surface] += 1
                if agrees:
                    agreeing.add(surface)
        n_in = int(inside.sum())
        n_out = len(inside) - n_in
        scored = []
        for key, counts in forms.items():
            if counts.total() < self.min_support:
                continue
            rows = index.holding(k for k in key if k not in QUANTITIES)  # units keep no stop word
            k_in = int(inside[rows].sum())
            share_in, share_out = k_in / n_in, (len(rows) - k_in + 0.5) / (n_out + 1)
            surface = best_form(counts, agreeing) if share_in > share_out else None
            if surface:
                score = share_in * math.log(share_in / share_out) * (1 + self.specificity * (len(key) - 1))
                scored.append((-score, -counts.total(), surface, key))  # equal lemmas: the phrase more units use
        return [(key, surface) for *_, surface, key in sorted(scored, key=lambda t: t[:3])]

    def _central(self, clusters: np.ndarray, scores: np.ndarray, cluster: int) -> list[int]:
        rows = np.flatnonzero(clusters == cluster)
        return rows[np.argsort(-scores[rows], kind="stable")][: self.n_central].tolist()

    @staticmethod
    def _parse(texts: list[str]) -> list:
        from pipeline.clean import load_spacy

        return list(load_spacy().pipe(texts, batch_size=256, disable=["ner", "senter"]))

    @staticmethod
    def _fallback(docs, taken: set) -> str:
        """The most central unit short enough to be a label (a theme too scattered to share a phrase), with the
        accents its writer left out put back: DC13's answers on "laicité" had no other name than "Thème sans nom
        commun". Phrases keep their spelling: "impot" put back as "impôt" in them named FI8's "symbolic tax"
        answers "Payer l'impôt", like a larger code, which absorbed them (rank rho 0.43 -> 0.27). A unit ending on
        a word that needs what follows is no label: DC13's "La laïcité est la" (the writer's "là"); nor one opening
        on a pronoun or cut by an ellipsis (see ANAPHORS, ELLIPSES). A wish is named without its "il faut" when
        that leaves a label (TE13's "Il faut changer de modèle d'agriculture" is "Changer de modèle
        d'agriculture"), else as written ("Il faut payer")."""
        for whole in docs:
            for doc in dict.fromkeys([whole[_wish_start(whole) :], whole[:]]):
                text = _as_label(doc)
                if text and not label_problems(text) and text.lower() not in taken:
                    return text
        return "Thème sans nom commun"


def _as_label(doc) -> str | None:
    """``doc`` (a unit or the end of one) written as a label, or None when it cannot be one (see ``_fallback``)."""
    words = [t for t in doc if not t.is_punct and not t.is_space]
    if not words or words[-1].pos_ in DANGLING or (words[0].pos_ == "PRON" and words[0].lower_ in ANAPHORS | PERSONS):
        return None
    text = doc.text.strip(LABEL_EDGES)
    if any(mark in text for mark in ELLIPSES):
        return None
    shouting = sum(c.isupper() for c in text) > SHOUTING * sum(c.isalpha() for c in text)
    return "".join(_written(t, shouting) + t.whitespace_ for t in doc).strip(LABEL_EDGES)


def _wish_start(doc) -> int:
    """Where the wish of "Il faut [changer de modèle]" or "Faut [arrêter]" starts: the infinitive after the verb;
    0 when the unit is no such wish."""
    words = [t for t in doc if not t.is_punct and not t.is_space]
    for verb in (1, 0):  # "Il faut ...", "Faut ..."
        if len(words) > verb + 1 and words[verb].lemma_ == "falloir" and (verb == 0 or words[0].lower_ == "il"):
            return words[verb + 1].i if "Inf" in words[verb + 1].morph.get("VerbForm") else 0
    return 0


def _written(token, shouting: bool) -> str:
    """``token`` with the accent its writer left out: "ou" before a conjugated verb is "où" ("Expliquer ou va
    l'argent"; "payer ou réduire" keeps its "ou"), other words as ``with_accents`` gives them; in a unit written
    in capitals, a word in lower case but for acronyms (FI7's "PLUS DE LISIBILITE ET DE CONTROLE" is "Plus de
    lisibilité et de contrôle", "IMPOT POUR TOUS" "Impôt pour tous"; "Supprimer l'URSSAF" keeps its capitals)."""
    following = token.nbor() if token.i + 1 < len(token.doc) else None
    if token.lower_ == "ou" and following is not None and "Fin" in following.morph.get("VerbForm"):
        return token.text[0] + "ù"
    acronym = _acronym(token.text) and not is_word_form(with_accents(token.lower_))
    return with_accents(token.lower_ if shouting and not acronym else token.text)
