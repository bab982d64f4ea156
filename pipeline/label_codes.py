"""A coder's keyword rules: an idea unit that holds every content word of a code's label, or one of the code's
marker words, also carries that code.

Clustering gives each idea unit one code, the nearest; a human coder gives an answer every code it mentions
(2.8 to 3.9 per answer on elf_dev.csv's FI8, FI7 and DC13). When a code is named "Bilan annuel des dépenses",
a unit saying "un bilan annuel des dépenses de l'État" that k-means put under "Transparence" carries both.
A code's markers are the words whose users it holds more than any other code does ("internet" for "Site internet",
"télé" and "presse" for "Réseaux sociaux"): a unit using one carries the code, as a coder's keyword list
would give it. The rules read lemmas, not vectors, so they reach units a sentence embedding places by their
other half.

``LabelCoder`` is fitted on a clustering's result (its codes' labels, lemmatised as the units are, and the
words of its units) and adds the assignments; ``label_code`` applies the same rules with what was learned, for
the warm path's new units.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pipeline.records import OTHER_ID, Assignment, ClusterResult, IdeaUnit

if TYPE_CHECKING:
    from pipeline.naming import LemmaIndex

# Content lemmas a label needs for the rule: a one-word label ("Transparence") would hand its code to every unit
# that uses the word in passing.
MIN_LABEL_LEMMAS = 2
SCORE_STEP = 0.0001  # scores are rounded to 4 decimals
# A marker word: used by at least MARKER_MIN_UNITS units and by at most MARKER_MAX_SHARE of all units, of which
# at least MARKER_SHARE sit in the code. Measured on FI8, FI7 and DC13, mean over seeds 0 to 5 of every k-means
# (one-off script, figures in bench/RESULTS.md): without markers, recovery F1 0.482 / 0.346 / 0.385 and rank rho
# 0.36 / 0.62 / 0.58; with these, 0.507 / 0.388 / 0.402 and 0.45 / 0.68 / 0.55. Shares of 0.25 or 0.35, 6 units,
# a cap of 8% of the units (FI8's rho 0.28), or a word specific to its code beyond its size (3 or 5 times the
# code's share) did no better on all three; with no cap, words as common as the question's own ("laïcité" in DC13)
# hand a code to most answers.
MARKER_SHARE = 0.3
MARKER_MIN_UNITS = 8
MARKER_MAX_SHARE = 0.05
# A label rule is dropped when more than this share of the units hold its words: such a label is the question's
# own subject with one common word, and its rule would code a fifth of the respondents (2.9 units each on FI8).
# FI8's "Impôt sur le revenu" and "Payer l'impôt" held 9.4% and 9.6% of the units, 23% of the respondents each,
# and were the best match of small human themes ("Taux IR égal pour tous", 10.5%; "IR proportionnel", 5.4%). Mean
# over seeds 0 to 5 of every k-means (one-off script, bench/RESULTS.md), rank rho on FI8 0.58 -> 0.66 at 0.06 and at
# 0.08, recovery F1 0.525 both; FI7 and DC13 unchanged (no rule of theirs holds 5%). At 0.05 "Moins de niches
# fiscales" (5.4%, the best match of "Revoir niches") went too: rho 0.57, F1 0.517.
RULE_MAX_SHARE = 0.07
# The run parameters holding each code's label lemmas and marker words: the warm path applies the rules to its new
# units with them.
LABEL_LEMMAS = "label_lemmas"
MARKERS = "marker_lemmas"


@dataclass
class LabelRule:
    """Each code's label lemmas (a unit needs them all) and marker words (one is enough), and the centre its units'
    vectors have (the added assignment's score)."""

    lemmas: dict[str, frozenset[str]]
    centres: dict[str, np.ndarray] = field(default_factory=dict)
    markers: dict[str, frozenset[str]] = field(default_factory=dict)

    def holders(self, units: list[IdeaUnit], rows: list[int]) -> dict[int, list[str]]:
        """Row -> the codes whose label lemmas or a marker word the unit holds, for the units of ``rows``; an
        inverted index, as a subset test per unit and code would take 15 s on 100,000 units and 300 codes."""
        from pipeline.naming import LemmaIndex  # here: its French word list (40 ms) would delay the warm path's start

        index = LemmaIndex([units[i].lemmas for i in rows])
        found: dict[int, list[str]] = {}
        for theme_id, needed in self.lemmas.items():
            for n in index.holding(needed).tolist():
                found.setdefault(rows[n], []).append(theme_id)
        for theme_id, words in self.markers.items():
            for n in sorted({n for word in words for n in index.holding([word]).tolist()}):
                codes = found.setdefault(rows[n], [])
                if theme_id not in codes:
                    codes.append(theme_id)
        return found


def label_code(
    assignments: list[Assignment], units: list[IdeaUnit], vectors: np.ndarray, rule: LabelRule, rows: Iterable[int]
) -> list[Assignment]:
    """``assignments`` with, for each unit of ``rows``, the codes whose label it holds and does not carry yet.

    A unit in "Autres" leaves it for the nearest of them: "Autres" is what no code says."""
    found = rule.holders(units, sorted(set(rows)))
    if not found:
        return assignments
    row_of = {units[i].unit_id: i for i in found}
    carried: dict[str, set[str]] = {}
    for a in assignments:
        carried.setdefault(a.unit_id, set()).add(a.theme_id)
    out: list[Assignment] = []
    for a in assignments:
        i = row_of.pop(a.unit_id, None)  # a unit's further codes follow its first assignment, once
        if i is None:
            out.append(a)
            continue
        scored = [(_score(vectors[i], rule.centres.get(code)), code) for code in found[i] if code not in carried[a.unit_id]]
        further = sorted(scored, key=lambda pair: (-pair[0], pair[1]))  # nearest first, whatever order the rules came
        if a.theme_id == OTHER_ID:
            out.extend([Assignment(a.unit_id, code, score) for score, code in further] or [a])
            continue
        # under the unit's own score: the review store orders a unit's themes by score, the first is its main one
        ceiling = round(a.score - SCORE_STEP, 4)
        out.append(a)
        out.extend(Assignment(a.unit_id, code, min(score, ceiling)) for score, code in further)
    return out


def _score(vector: np.ndarray, centre: np.ndarray | None) -> float:
    if centre is None:
        return 0.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return round(float(vector @ centre) / norm, 4)


class LabelCoder:
    """fit: a clustering's codes' label lemmas, marker words and centres; ``code``: the result with the rules'
    assignments.

    ``min_lemmas``: see MIN_LABEL_LEMMAS; ``rule_max_share``: see RULE_MAX_SHARE; ``marker_share``,
    ``marker_min_units``, ``marker_max_share``: see MARKER_SHARE and the two below it; a ``marker_share`` of None
    gives no code markers. Codebook themes are codes like the others: their label is the codebook's."""

    def __init__(
        self,
        min_lemmas: int = MIN_LABEL_LEMMAS,
        marker_share: float | None = MARKER_SHARE,
        marker_min_units: int = MARKER_MIN_UNITS,
        marker_max_share: float = MARKER_MAX_SHARE,
        rule_max_share: float = RULE_MAX_SHARE,
    ) -> None:
        self.min_lemmas = min_lemmas
        self.marker_share = marker_share
        self.marker_min_units = marker_min_units
        self.marker_max_share = marker_max_share
        self.rule_max_share = rule_max_share

    def __repr__(self) -> str:
        return (
            f"LabelCoder(min_lemmas={self.min_lemmas}, marker_share={self.marker_share}, "
            f"marker_min_units={self.marker_min_units}, marker_max_share={self.marker_max_share}, "
            f"rule_max_share={self.rule_max_share})"
        )

    def fit(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> LabelCoder:
        from pipeline.clean import lemmatize
        from pipeline.naming import LemmaIndex  # here: its French word list (40 ms) would delay the warm path's start
        from pipeline.nets import theme_centres

        index = LemmaIndex([u.lemmas for u in units])
        codes = [t for t in result.themes if t.theme_id != OTHER_ID]
        words = [frozenset(w.split()) for w in lemmatize([t.label for t in codes])]
        most = self.rule_max_share * len(units)
        lemmas = {
            t.theme_id: w
            for t, w in zip(codes, words, strict=True)
            if len(w) >= self.min_lemmas and len(index.holding(w)) <= most
        }
        markers = self._markers(result, units, index)
        ruled = sorted(set(lemmas) | set(markers))
        centres = theme_centres(ruled, result.assignments, units, vectors)
        self.rule_ = LabelRule(lemmas, dict(zip(ruled, centres, strict=True)), markers)
        return self

    def _markers(self, result: ClusterResult, units: list[IdeaUnit], index: LemmaIndex) -> dict[str, frozenset[str]]:
        """Code -> the words whose users the code holds, as their nearest, more than any other code does, and
        MARKER_SHARE of them at least (``index``: the units' ``LemmaIndex``)."""
        if self.marker_share is None:
            return {}
        from pipeline.nets import nearest_assignments

        own = {a.unit_id: a.theme_id for a in nearest_assignments(result.assignments)}
        codes = [own.get(u.unit_id, OTHER_ID) for u in units]
        most = self.marker_max_share * len(units)
        markers: dict[str, set[str]] = defaultdict(set)
        for word, rows in index.postings.items():
            if not self.marker_min_units <= len(rows) <= most:
                continue
            code, held = Counter(codes[i] for i in rows.tolist()).most_common(1)[0]
            if code != OTHER_ID and held >= self.marker_share * len(rows):
                markers[code].add(word)
        return {code: frozenset(markers[code]) for code in sorted(markers)}  # not in set order: it varies by process

    def code(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray, rows: Iterable[int]) -> ClusterResult:
        """``result`` with the rule's further codes for the units of ``rows``."""
        self.fit(result, units, vectors)
        assignments = label_code(result.assignments, units, vectors, self.rule_, rows)
        parameters = {
            **result.parameters,
            LABEL_LEMMAS: {k: sorted(v) for k, v in self.rule_.lemmas.items()},
            MARKERS: {k: sorted(v) for k, v in self.rule_.markers.items()},
        }
        return ClusterResult(result.themes, assignments, parameters)
