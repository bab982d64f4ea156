"""After clustering: a coherence score per theme, no bag of unrelated answers left on top, near-duplicate codes merged.

``ThemeRefiner`` is a post-processing step in the manner of BERTopic's representation models: it takes
``find_themes``' result and gives back another, so it can be swapped or left out.

Coherence is measured in two spaces, because each misses a kind of bag. Sentence embeddings see paraphrases, but
answers that all repeat the question's own word ("expérience client") look alike there whatever they ask for;
lemma TF-IDF without the question's own vocabulary (the codebook's and ``--stop-words``) sees that they share
nothing else. In each space, coherence is the mean cosine between two units of the theme over the mean cosine
between two units of the whole question; the score is the geometric mean of the two ratios.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline import learn
from pipeline.labels import same_code_key
from pipeline.naming import PhraseLabeller
from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, ClusterResult, IdeaUnit, Theme
from pipeline.themes import (
    OUTLIER_STD,
    keywords_by_cluster,
    min_theme_size,
    outlier_cutoff,
    stable_theme_id,
    stop_words_for,
)

# Below this coherence a theme is a bag. Measured on FI8, FI7 and DC13 (elf_dev, 81 found themes): five themes
# scored 0.43 to 0.70 ("rien, choquant", "an, coût", "habitude, salle", "trop, spot, presse", "cours"; their most
# common human theme on 31-46% of their answers), every other theme 1.14 and above. At 1.0 the
# respondents in bags went from 2.7/4.1/17.2% to 3.5/4.2/0.0%, NMI on single-label answers 0.502/0.514/0.636 to
# 0.498/0.510/0.620; at 1.5 and 2.0 more themes fell and NMI dropped further on FI7 (0.504, 0.477).
MIN_COHERENCE = 1.0
# Two codes whose centres are this close (cosine averaged over the two spaces) say the same thing. Measured on the
# 723 theme pairs of FI8, FI7 and DC13: at >= 0.75 3 pairs, all 3 with the same majority human theme (ISF, niches,
# impôt sur le revenu); >= 0.65: 11 of 13; >= 0.6: 16 of 21; any pair: 17%. Merging at 0.65 cost FI8 0.017 NMI.
MERGE_SIMILARITY = 0.75
# A theme whose answers share words less than this many times as much as they share sense (its TF-IDF ratio over
# its embedding ratio) is a bag too, however alike its sentences: answers that each name the question's subject
# ("expérience client") in their own way. Measured on the sample (gold: ``panorama_culture_client_2025.gold.csv``)
# and FI8, FI7, DC13 (91 found themes): the sample's catch-all "Expérience client" (most common gold theme on 17%
# of its answers, coherence 1.99) 0.82; the elf themes under MIN_COHERENCE 0.82 to 1.43; "Frère musulman" (DC13,
# 41%) 1.32; every other theme 1.52 and above. At 1.45 the sample's top 3 nets became gold's top 3, no catch-all.
MIN_WORD_RATIO = 1.45
# A bag is cut in 2 to this many parts (2-means, 3-means...), the cut keeping the most units in coherent parts of at
# least MIN_PART_SHARE of the bag. Cutting in 2 only, DC13's bag ("Prêcheurs de haine", 115 units) was dissolved:
# NMI 0.640 -> 0.619 (floor 0.64); up to 4 parts: 0.647, FI8 0.504 -> 0.509, FI7 0.530 -> 0.537 (up to 5: FI7's
# bags 0 -> 2.5%). With no share floor, parts of a few units passed (the sample's catch-all came back as a part;
# FI8 bags 7.5%); at 0.2 none; at 0.25 DC13's bag was dissolved again (NMI 0.619).
SPLIT_PARTS = 4
MIN_PART_SHARE = 0.2


def mean_pair_cosine(rows: np.ndarray | learn.sparse.csr_matrix) -> float:
    """Mean cosine over the distinct pairs of unit-norm (or empty) rows, in O(n): |sum|^2 less the self pairs."""
    n = rows.shape[0]
    if n < 2:
        return 1.0
    total = np.asarray(rows.sum(axis=0)).ravel()
    self_pairs = float(rows.multiply(rows).sum()) if learn.sparse.issparse(rows) else float(np.einsum("ij,ij->", rows, rows))
    return (float(total @ total) - self_pairs) / (n * (n - 1))


class CoherenceSpace:
    """Units as unit-norm sentence embeddings and as lemma TF-IDF rows without the question's own words."""

    def fit(self, vectors: np.ndarray, lemmas: list[str], stop_words: set[str]) -> CoherenceSpace:
        self.dense_ = learn.normalize(np.asarray(vectors, dtype=np.float32))
        kept = [" ".join(w for w in text.split() if w not in stop_words) for text in lemmas]
        try:
            vectorizer = learn.TfidfVectorizer(min_df=2 if len(kept) >= 50 else 1, sublinear_tf=True)
            self.sparse_ = vectorizer.fit_transform(kept).tocsr()
        except ValueError:  # no content word shared at all: embeddings alone
            self.sparse_ = None
        self.base_ = [max(mean_pair_cosine(x), 1e-6) for x in self._spaces()]
        return self

    def _spaces(self) -> list:
        return [self.dense_] if self.sparse_ is None else [self.dense_, self.sparse_]

    def ratios(self, rows: np.ndarray) -> list[float]:
        """Per space (embeddings, then TF-IDF if any): mean cosine of the rows' pairs over the question's."""
        return [max(mean_pair_cosine(x[rows]), 0.0) / base for x, base in zip(self._spaces(), self.base_, strict=True)]

    def coherence(self, rows: np.ndarray) -> float:
        """1.0: the theme's units are as alike as two units of the question at random; 2.0: twice as alike."""
        ratios = self.ratios(rows)
        return float(np.prod(ratios) ** (1 / len(ratios)))

    def word_ratio(self, rows: np.ndarray) -> float:
        """How much more the rows share words than sense: TF-IDF ratio over embedding ratio (inf: no TF-IDF)."""
        ratios = self.ratios(rows)
        return ratios[1] / max(ratios[0], 1e-6) if len(ratios) == 2 else float("inf")

    def centre(self, rows: np.ndarray) -> np.ndarray:
        """Unit-norm mean embedding of ``rows``."""
        return learn.normalize(self.dense_[rows].mean(axis=0, keepdims=True))[0]

    def centre_similarity(self, groups: list[np.ndarray]) -> np.ndarray:
        """Cosine between the groups' centres, averaged over the two spaces: two codes that say the same thing are
        close in both, where a shared word ("fiscal") or a shared sentence shape alone makes them close in one."""
        similarity = [self._centres(x, groups) for x in self._spaces()]
        return sum(c @ c.T for c in similarity) / len(similarity)

    @staticmethod
    def _centres(x, groups: list[np.ndarray]) -> np.ndarray:
        return learn.normalize(np.vstack([np.asarray(x[rows].mean(axis=0)) for rows in groups]))


class ThemeRefiner:
    """Score each theme's coherence, split or dissolve the incoherent ones, merge near-duplicate codes.

    Args:
        min_coherence: a theme below it (or below ``min_word_ratio``) is a bag: it is cut in 2 to ``split_parts``
            parts, its coherent parts of at least ``min_part_share`` of it become themes, and its other units go to
            their nearest coherent theme when close enough to it (the outlier cutoff of ``ThemeModel``), else to
            "Autres". A codebook theme is never split nor dissolved: it is marked ``mixed``, as is any theme still
            a bag at the end.
        min_word_ratio: a theme whose TF-IDF coherence ratio is under this many times its embedding ratio is a bag.
        split_parts, min_part_share: most parts a bag is cut in, and the share of it a part needs to be kept.
        merge_similarity: two themes whose embedding centres have at least this cosine, or whose labels say the
            same (``pipeline.labels.same_code_key``: "Appliquer la loi", "Application de la loi"), become one: the
            larger keeps its id, label and keywords (a codebook theme keeps its own over a found one; two codebook
            themes are never merged, the codebook says they differ).
        outlier_std: a loose unit joins its nearest theme unless its cosine to the centre is this many standard
            deviations below the theme's mean (``ThemeModel``'s outlier rule, the same default).
        keep_apart: pairs of theme ids, ``frozenset({id_a, id_b})``, a reviewer said are different: never merged.
        min_size: units a part of a split needs to become a theme; None: ``min_theme_size``, as for found themes.
        random_state: seed of the k-means splits.

    Learned: ``coherence_`` (theme id -> score of the refined themes), ``split_`` (old id -> new ids),
    ``dissolved_`` (ids), ``merged_`` ((kept id, absorbed id) pairs), ``space_`` (``CoherenceSpace``).
    """

    def __init__(
        self,
        min_coherence: float = MIN_COHERENCE,
        merge_similarity: float = MERGE_SIMILARITY,
        keep_apart: frozenset[frozenset[str]] | set[frozenset[str]] = frozenset(),
        outlier_std: float = OUTLIER_STD,
        min_size: int | None = None,
        random_state: int = 0,
        min_word_ratio: float = MIN_WORD_RATIO,
        split_parts: int = SPLIT_PARTS,
        min_part_share: float = MIN_PART_SHARE,
    ):
        self.min_coherence = min_coherence
        self.min_word_ratio = min_word_ratio
        self.split_parts = split_parts
        self.min_part_share = min_part_share
        self.merge_similarity = merge_similarity
        self.keep_apart = keep_apart
        self.outlier_std = outlier_std
        self.min_size = min_size
        self.random_state = random_state

    def __repr__(self) -> str:
        """Every setting, in a stable order: the flows key the theme stage's cached result on it."""
        pairs = sorted(sorted(pair) for pair in self.keep_apart)
        return (
            f"ThemeRefiner(min_coherence={self.min_coherence!r}, merge_similarity={self.merge_similarity!r}, "
            f"keep_apart={pairs!r}, outlier_std={self.outlier_std!r}, min_size={self.min_size!r}, "
            f"random_state={self.random_state!r}, min_word_ratio={self.min_word_ratio!r}, "
            f"split_parts={self.split_parts!r}, min_part_share={self.min_part_share!r})"
        )

    def refine(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> ClusterResult:
        """A new ClusterResult: the same units, each with one theme (possibly "Autres"); ``result`` is left as is."""
        stop_words = stop_words_for(result.parameters.get("stop_words", ()))
        lemmas = [u.lemmas for u in units]
        self.space_ = CoherenceSpace().fit(vectors, lemmas, stop_words)
        theme_of = {a.unit_id: a.theme_id for a in result.assignments}
        labels = np.array([theme_of[u.unit_id] for u in units], dtype=object)
        themes = {t.theme_id: replace(t) for t in result.themes}
        self.split_, self.dissolved_, self.merged_ = {}, [], []
        min_size = self.min_size or min_theme_size(len(units))
        labels, new_ids = self._split_or_dissolve(labels, themes, min_size)
        labels = self._name_new(labels, themes, new_ids, units, stop_words)
        labels = self._merge(labels, themes)
        self._score(labels, themes)
        assignments = self._assignments(result.assignments, units, labels, themes)
        parameters = {**result.parameters, **self._record(labels, units, result)}
        ordered = [themes[t.theme_id] for t in result.themes if t.theme_id in themes]
        ordered += [themes[i] for i in themes if i not in {t.theme_id for t in result.themes}]
        return ClusterResult(themes=ordered, assignments=assignments, parameters=parameters)

    # -- bags -----------------------------------------------------------------------------------------

    def _split_or_dissolve(self, labels, themes, min_size) -> tuple[np.ndarray, list[str]]:
        """Each incoherent found theme: its coherent parts become themes, its other units are placed again."""
        loose: list[np.ndarray] = []
        new_ids: list[str] = []
        for theme_id in list(themes):
            theme, rows = themes[theme_id], np.flatnonzero(labels == theme_id)
            if theme_id == OTHER_ID or theme.from_codebook or self._coherent(rows):
                continue
            del themes[theme_id]
            halves = self._coherent_parts(rows, min_size)
            for number, half in enumerate(halves, start=1):
                new_id = f"{theme_id}.{number}"  # provisional: named from its keywords once every change is made
                themes[new_id] = Theme(new_id, theme.label, [])
                labels[half] = new_id
                new_ids.append(new_id)
            if halves:
                self.split_[theme_id] = [f"{theme_id}.{n}" for n in range(1, len(halves) + 1)]
            else:
                self.dissolved_.append(theme_id)
            kept = np.concatenate(halves) if halves else np.array([], dtype=int)
            loose.append(np.setdiff1d(rows, kept))
        if loose:
            labels = self._place(labels, themes, np.concatenate(loose))
        if OTHER_ID in labels and OTHER_ID not in themes:
            themes[OTHER_ID] = Theme(OTHER_ID, OTHER_LABEL, [])
        return labels, new_ids

    def _coherent(self, rows: np.ndarray) -> bool:
        """Not a bag: coherent enough, and sharing words, not only sense (one unit or none: nothing to judge)."""
        if len(rows) < 2:
            return True
        return self.space_.coherence(rows) >= self.min_coherence and self.space_.word_ratio(rows) >= self.min_word_ratio

    def _coherent_parts(self, rows: np.ndarray, min_size: int) -> list[np.ndarray]:
        """The coherent parts of the k-means cut (k from 2 to ``split_parts``) that keeps the most units."""
        min_size = max(min_size, round(self.min_part_share * len(rows)))
        best: list[np.ndarray] = []
        for k in range(2, self.split_parts + 1):
            if len(rows) < k * min_size:
                break
            model = learn.KMeans(k, n_init=4, random_state=self.random_state).fit(self.space_.dense_[rows])
            parts = [rows[model.labels_ == side] for side in range(k)]
            kept = [p for p in parts if len(p) >= min_size and self._coherent(p)]
            if sum(map(len, kept)) > sum(map(len, best)):
                best = kept
        return best

    def _place(self, labels: np.ndarray, themes: dict[str, Theme], loose: np.ndarray) -> np.ndarray:
        """Loose units go to their nearest theme if no further from its centre than its own outliers, else "Autres"."""
        targets = [t for t in themes if t != OTHER_ID]
        labels[loose] = OTHER_ID
        if not targets or not len(loose):
            return labels
        members = [np.flatnonzero(labels == t) for t in targets]
        centres = np.vstack([self.space_.centre(rows) for rows in members])
        scores = [self.space_.dense_[rows] @ c for rows, c in zip(members, centres, strict=True)]
        cutoffs = np.array([outlier_cutoff(s, self.outlier_std) for s in scores])
        similarity = self.space_.dense_[loose] @ centres.T
        best = np.argmax(similarity, axis=1)
        close = similarity[np.arange(len(loose)), best] >= cutoffs[best]
        labels[loose[close]] = np.array(targets, dtype=object)[best[close]]
        return labels

    # -- near-duplicates ------------------------------------------------------------------------------

    def _merge(self, labels: np.ndarray, themes: dict[str, Theme]) -> np.ndarray:
        """Closest pairs first; a group that absorbed a theme keeps absorbing under its survivor's id."""
        ids = [t for t in themes if t != OTHER_ID]
        if len(ids) < 2:
            return labels
        sizes = {t: int(np.sum(labels == t)) for t in ids}
        similarity = self.space_.centre_similarity([np.flatnonzero(labels == t) for t in ids])
        keys = {t: same_code_key(themes[t].label) for t in ids}
        same_words = {(a, b) for a in ids for b in ids if a != b and keys[a] and keys[a] == keys[b]}
        pairs = [
            (float(similarity[i, j]), ids[i], ids[j])
            for i in range(len(ids))
            for j in range(i + 1, len(ids))
            if similarity[i, j] >= self.merge_similarity or (ids[i], ids[j]) in same_words
        ]
        group = {t: {t} for t in ids}  # survivor id -> the original ids it holds
        survivor = {t: t for t in ids}
        for _, a, b in sorted(pairs, reverse=True):
            a, b = survivor[a], survivor[b]
            if a == b or self._kept_apart(themes[a], themes[b], group[a], group[b]):
                continue
            kept, absorbed = sorted((a, b), key=lambda t: (themes[t].from_codebook, sizes[t], t), reverse=True)
            self.merged_.append((kept, absorbed))
            labels[labels == absorbed] = kept
            sizes[kept] += sizes.pop(absorbed)
            group[kept] |= group.pop(absorbed)
            for original in group[kept]:
                survivor[original] = kept
            del themes[absorbed]
        return labels

    def _kept_apart(self, one: Theme, other: Theme, first: set[str], second: set[str]) -> bool:
        """``one`` and ``other`` are the survivors of the groups ``first`` and ``second``: a group holding a codebook
        theme survives under it."""
        return (one.from_codebook and other.from_codebook) or any(
            frozenset((a, b)) in self.keep_apart for a in first for b in second
        )

    # -- results --------------------------------------------------------------------------------------

    def _name_new(self, labels, themes, new_ids, units, stop_words) -> np.ndarray:
        """Halves of a split get keywords, a phrase label and a stable id like any found theme, before merging:
        a half named like another theme is that theme."""
        if not new_ids:
            return labels
        order = [t for t in themes if t != OTHER_ID]
        numbers = np.array([order.index(t) if t != OTHER_ID else -1 for t in labels])
        keywords = keywords_by_cluster(units, numbers, stop_words)
        closeness = np.zeros(len(units))
        for provisional in new_ids:
            rows = np.flatnonzero(labels == provisional)
            closeness[rows] = self.space_.dense_[rows] @ self.space_.centre(rows)
        phrases = PhraseLabeller().label(units, numbers, closeness, [order.index(t) for t in new_ids])
        for provisional in new_ids:
            words = keywords.get(order.index(provisional), [])
            theme_id = stable_theme_id(words)
            while theme_id in themes:
                theme_id += "x"
            themes[theme_id] = Theme(theme_id, phrases[order.index(provisional)], words)
            del themes[provisional]
            labels[labels == provisional] = theme_id
            for old, halves in self.split_.items():
                self.split_[old] = [theme_id if h == provisional else h for h in halves]
        return labels

    def _score(self, labels: np.ndarray, themes: dict[str, Theme]) -> None:
        self.coherence_ = {t: self.space_.coherence(np.flatnonzero(labels == t)) for t in themes}
        for theme_id, theme in themes.items():
            theme.coherence = round(self.coherence_[theme_id], 3)
            theme.mixed = theme_id != OTHER_ID and not self._coherent(np.flatnonzero(labels == theme_id))
        self.mixed_ = sum(1 for theme in themes.values() if theme.mixed)

    def _assignments(self, before, units, labels, themes) -> list[Assignment]:
        """Units whose theme or runner-up changed get cosines to the refined centres; the others keep theirs."""
        targets = [t for t in themes if t != OTHER_ID]
        centres = np.vstack([self.space_.centre(np.flatnonzero(labels == t)) for t in targets]) if targets else None
        index = {u.unit_id: i for i, u in enumerate(units)}
        refined = []
        for a in before:
            i = index[a.unit_id]
            own = labels[i]
            if own == a.theme_id and (a.runner_up_id is None or a.runner_up_id in themes):
                refined.append(a)
                continue
            similarity = self.space_.dense_[i] @ centres.T if centres is not None else np.zeros(0)
            order = [j for j in np.argsort(-similarity) if targets[j] != own]
            score = (
                a.score
                if own == a.theme_id
                else float(similarity.max(initial=0.0) if own == OTHER_ID else similarity[targets.index(own)])
            )
            second = order[0] if order else None
            refined.append(
                Assignment(
                    a.unit_id,
                    own,
                    round(score, 4),
                    targets[second] if second is not None else None,
                    round(float(similarity[second]), 4) if second is not None else None,
                )
            )
        return refined

    def _record(self, labels: np.ndarray, units: list[IdeaUnit], result: ClusterResult) -> dict[str, object]:
        """What the step did, for the manifest."""
        before = {a.unit_id: a.theme_id for a in result.assignments}
        moved_to_other = sum(1 for u, label in zip(units, labels, strict=True) if label == OTHER_ID != before[u.unit_id])
        return {
            "coherence_threshold": self.min_coherence,
            "merge_similarity": self.merge_similarity,
            "split": len(self.split_),
            "dissolved": len(self.dissolved_),
            "merged": len(self.merged_),
            "mixed": self.mixed_,
            "units_to_autres": moved_to_other,
            "keep_apart": len(self.keep_apart),
        }
