"""A coder's keyword rule: an idea unit that holds every content word of a code's label also carries that code.

Clustering gives each idea unit one code, the nearest; a human coder gives an answer every code it mentions
(2.8 to 3.9 per answer on elf_dev.csv's FI8, FI7 and DC13). When a code is named "Bilan annuel des dépenses",
a unit saying "un bilan annuel des dépenses de l'État" that k-means put under "Transparence" carries both.
The rule reads lemmas, not vectors, so it reaches units a sentence embedding places by their other half.

``LabelCoder`` is fitted on a clustering's result (its codes' labels, lemmatised as the units are) and adds
the assignments; ``label_code`` applies the same rule with what was learned, for the warm path's new units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from pipeline.records import OTHER_ID, Assignment, ClusterResult, IdeaUnit

# Content lemmas a label needs for the rule: a one-word label ("Transparence") would hand its code to every unit
# that uses the word in passing.
MIN_LABEL_LEMMAS = 2
SCORE_STEP = 0.0001  # scores are rounded to 4 decimals
# The run parameter holding each code's label lemmas: the warm path applies the rule to its new units with them.
LABEL_LEMMAS = "label_lemmas"


@dataclass
class LabelRule:
    """Each code's label lemmas, and the centre its units' vectors have (the added assignment's score)."""

    lemmas: dict[str, frozenset[str]]
    centres: dict[str, np.ndarray] = field(default_factory=dict)

    def holders(self, units: list[IdeaUnit], rows: list[int]) -> dict[int, list[str]]:
        """Row -> the codes whose label lemmas the unit holds, for the units of ``rows``; an inverted index, as a
        subset test per unit and code would take 15 s on 100,000 units and 300 codes."""
        from pipeline.naming import LemmaIndex  # here: its French word list (40 ms) would delay the warm path's start

        index = LemmaIndex([units[i].lemmas for i in rows])
        found: dict[int, list[str]] = {}
        for theme_id, needed in self.lemmas.items():
            for n in index.holding(needed).tolist():
                found.setdefault(rows[n], []).append(theme_id)
        return found


def label_code(
    assignments: list[Assignment], units: list[IdeaUnit], vectors: np.ndarray, rule: LabelRule, rows: Iterable[int]
) -> list[Assignment]:
    """``assignments`` with, for each unit of ``rows``, the codes whose label it holds and does not carry yet.

    A unit in "Autres" leaves it for the first of them: "Autres" is what no code says."""
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
        vector = vectors[i]
        others = [code for code in found[i] if code not in carried[a.unit_id]]
        if a.theme_id == OTHER_ID:
            out.extend([Assignment(a.unit_id, code, _score(vector, rule.centres.get(code))) for code in others] or [a])
            continue
        # under the unit's own score: the review store orders a unit's themes by score, the first is its main one
        ceiling = round(a.score - SCORE_STEP, 4)
        out.append(a)
        out.extend(Assignment(a.unit_id, code, min(_score(vector, rule.centres.get(code)), ceiling)) for code in others)
    return out


def _score(vector: np.ndarray, centre: np.ndarray | None) -> float:
    if centre is None:
        return 0.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return round(float(vector @ centre) / norm, 4)


class LabelCoder:
    """fit: a clustering's codes' label lemmas and centres; ``code``: the result with the rule's assignments.

    ``min_lemmas``: see MIN_LABEL_LEMMAS. Codebook themes are codes like the others: their label is the
    codebook's."""

    def __init__(self, min_lemmas: int = MIN_LABEL_LEMMAS) -> None:
        self.min_lemmas = min_lemmas

    def __repr__(self) -> str:
        return f"LabelCoder(min_lemmas={self.min_lemmas})"

    def fit(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> LabelCoder:
        from pipeline.clean import lemmatize
        from pipeline.nets import theme_centres

        codes = [t for t in result.themes if t.theme_id != OTHER_ID]
        words = [frozenset(w.split()) for w in lemmatize([t.label for t in codes])]
        lemmas = {t.theme_id: w for t, w in zip(codes, words, strict=True) if len(w) >= self.min_lemmas}
        centres = theme_centres(list(lemmas), result.assignments, units, vectors)
        self.rule_ = LabelRule(lemmas, dict(zip(lemmas, centres, strict=True)))
        return self

    def code(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray, rows: Iterable[int]) -> ClusterResult:
        """``result`` with the rule's further codes for the units of ``rows``."""
        self.fit(result, units, vectors)
        assignments = label_code(result.assignments, units, vectors, self.rule_, rows)
        parameters = {**result.parameters, LABEL_LEMMAS: {k: sorted(v) for k, v in self.rule_.lemmas.items()}}
        return ClusterResult(result.themes, assignments, parameters)
