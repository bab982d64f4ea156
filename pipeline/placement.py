"""The warm path of the theme stage: new units placed in the themes of the last clustering, not clustered again.

A file analysed again with a few more answers (a wave still coming in, a codebook tried once more) would
otherwise pay the whole theme stage and BERTopic's import, and could reshuffle themes a reader has already seen.
Here units already analysed keep their themes; each new unit goes to the theme whose centre (the mean sentence
embedding of its units) is nearest, or to "Autres" when it is farther from it than the theme's own units mostly
are: the clustering's own rule (``OUTLIER_STD`` below the theme's mean similarity).

``ThemePlacer`` is fitted on a clustering's result; ``reason_to_recluster`` says why a file cannot take the warm
path (too many units new or gone since the last clustering), and ``place`` gives the themes for one that can.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import replace

import numpy as np

from pipeline.cache import BlobCache, cache_dir
from pipeline.label_codes import LABEL_LEMMAS, MARKERS, LabelRule, label_code
from pipeline.messages import plural, plural_word, say
from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, ClusterResult, IdeaUnit, Theme

# Units new (or changed) or gone since the last clustering, as a share of the file's units, beyond which the
# themes are found again. Measured with bench/placement.py on FI8, FI7 and DC13 of elf_dev.csv (4 seeded held-out
# draws per share against 8 cold runs differing only by k-means seed): with 2% of the answers new (1.6-1.8% of
# the units) NMI, ARI, macro-F1, recovery F1, rank rho, bags and the agreement with cold runs all stay within
# the cold runs' spread on all three questions. From 3% on, the agreement with a fresh clustering falls below it
# (FI7 -0.005 at 3%, FI8 -0.017 at 5%, FI7 -0.025 at 10%), though bench/quality.py's figures hold to 10-20%;
# at 30% NMI drops (FI8 -0.014, FI7 -0.013). 100 new answers on 10,000 (1%) still take the warm path.
MAX_CHANGED_SHARE = 0.02
CACHE_NAMESPACE = "theme-placer"  # its table in the cache file (settings.cache / "cache.sqlite")
# The run parameter (``ClusterResult.parameters``, then the manifest's) saying which path the theme stage took.
THEME_PATH = "theme_path"


def unit_key(unit: IdeaUnit) -> str:
    """A unit is the same one when its id and its text are: an answer edited since is a new unit."""
    return hashlib.sha256(f"{unit.unit_id}\x00{unit.text}".encode()).hexdigest()[:24]


class ThemePlacer:
    """fit: the themes of a finished clustering (``ClusterResult``), with the units and vectors it was made from;
    ``place``: the same themes for the units of a file that mostly holds the same units.

    Args:
        max_changed_share: units new or gone since the clustering (placements included), as a share of the
            larger of the file and the one last clustered or placed, beyond which ``reason_to_recluster`` asks for
            a clustering.
    """

    def __init__(self, max_changed_share: float = MAX_CHANGED_SHARE) -> None:
        self.max_changed_share = max_changed_share

    def fit(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> ThemePlacer:
        self.result_ = result
        self.keys_ = {unit_key(u): u.unit_id for u in units}
        self.clustered_units_ = len(units)
        self.placed_units_ = 0  # placed since the clustering: they count towards the share that asks for a new one
        self._fit_centres(result, units, vectors)
        return self

    def _fit_centres(self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> None:
        # here, not with the module: the command line reads MAX_CHANGED_SHARE before it starts cleaning ahead, and
        # pipeline.themes brings the French word list and the codebook's YAML reader (40 ms) it does not need then
        from pipeline.nets import group_centres, nearest_assignments
        from pipeline.themes import outlier_cutoff

        row = {u.unit_id: i for i, u in enumerate(units)}
        members: dict[str, list[int]] = {}
        for a in nearest_assignments(result.assignments):  # centres as the clustering had them
            if a.theme_id != OTHER_ID and a.unit_id in row:
                members.setdefault(a.theme_id, []).append(row[a.unit_id])
        self.theme_ids_ = sorted(members)
        vectors = np.asarray(vectors, dtype=np.float32)
        groups = [members[t] for t in self.theme_ids_]
        self.centres_ = group_centres(groups, vectors).astype(np.float32)
        self.cutoffs_ = np.array([outlier_cutoff(vectors[g] @ c) for g, c in zip(groups, self.centres_, strict=True)])

    def digest(self) -> str:
        """Names what the placer holds: a stage after placement keys its cached result on it."""
        assigned = sorted(f"{a.unit_id}\x01{a.theme_id}" for a in self.result_.assignments)
        state = "\x00".join([*sorted(self.keys_), *assigned, *self.theme_ids_, str(self.placed_units_)])
        return hashlib.sha256(state.encode()).hexdigest()[:32]

    def changes(self, units: list[IdeaUnit]) -> tuple[int, int]:
        """Units of ``units`` not analysed before, and units analysed before that ``units`` no longer holds."""
        keys = {unit_key(u) for u in units}
        new = sum(k not in self.keys_ for k in keys)
        return new, len(self.keys_) - (len(keys) - new)

    def reason_to_recluster(self, units: list[IdeaUnit]) -> str | None:
        """Why ``units`` need a new clustering, in French; None when they can be placed."""
        new, gone = self.changes(units)
        changed = self.placed_units_ + new + gone
        if changed > self.max_changed_share * max(len(units), len(self.keys_), 1):  # of the larger of the two
            ideas, percent = plural(changed, "idea"), round(100 * self.max_changed_share)
            return say("placement.too_many", ideas=ideas, changed=plural_word(changed, "changed"), percent=percent)
        return None

    def place(self, units: list[IdeaUnit], vectors: np.ndarray) -> ClusterResult:
        """The clustering's themes for ``units``: known units as they were, new ones by their nearest centre.

        The placer then holds this result, so that the next file is compared with this one."""
        by_unit: dict[str, list[Assignment]] = {}  # a unit may hold several themes (reviewers' carried over)
        for a in self.result_.assignments:
            by_unit.setdefault(a.unit_id, []).append(a)
        keys = [unit_key(u) for u in units]
        new = [i for i, (u, k) in enumerate(zip(units, keys, strict=True)) if self.keys_.get(k) != u.unit_id]
        placed = self._nearest(units, vectors, new)
        assignments: list[Assignment] = []
        for i, unit in enumerate(units):
            assignments.extend([placed[i]] if i in placed else by_unit.get(unit.unit_id, []))
        assignments = label_code(assignments, units, vectors, self._label_rule(), new)
        themes = {t.theme_id: t for t in self.result_.themes}
        if any(a.theme_id == OTHER_ID for a in assignments) and OTHER_ID not in themes:
            themes[OTHER_ID] = Theme(OTHER_ID, OTHER_LABEL, [])
        used = {a.theme_id for a in assignments}
        parameters = {
            **self.result_.parameters,
            THEME_PATH: {
                "path": "placed",
                "new_units": len(new),
                "gone_units": len(self.keys_) - (len(units) - len(new)),
                "placed_in_other": sum(placed[i].theme_id == OTHER_ID for i in new),
                "placed_since_clustering": self.placed_units_ + len(new),
                "clustered_units": self.clustered_units_,
            },
        }
        result = ClusterResult([replace(t) for t in themes.values() if t.theme_id in used], assignments, parameters)
        self.result_ = result
        self.keys_ = {k: u.unit_id for u, k in zip(units, keys, strict=True)}
        self.placed_units_ += len(new)
        return result

    def _label_rule(self) -> LabelRule:
        """The clustering's keyword rules (``pipeline.label_codes``), scored against the placer's centres."""
        lemmas, markers = (
            {t: frozenset(words) for t, words in self.result_.parameters.get(key, {}).items()}
            for key in (LABEL_LEMMAS, MARKERS)
        )
        centres = dict(zip(self.theme_ids_, self.centres_, strict=True))
        return LabelRule(lemmas, {t: centres[t] for t in {*lemmas, *markers} if t in centres}, markers)

    def _nearest(self, units: list[IdeaUnit], vectors: np.ndarray, rows: list[int]) -> dict[int, Assignment]:
        if not rows:
            return {}
        if not self.theme_ids_:
            return {i: Assignment(units[i].unit_id, OTHER_ID, 0.0) for i in rows}
        part = np.asarray(vectors[rows], dtype=np.float32)
        part /= np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)
        similarity = part @ self.centres_.T
        order = np.argsort(-similarity, axis=1)
        placed = {}
        for n, i in enumerate(rows):
            best = int(order[n, 0])
            score = float(similarity[n, best])
            outside = score < self.cutoffs_[best]  # in "Autres": its nearest theme is the runner-up, as in clustering
            runner_up = best if outside else int(order[n, 1]) if similarity.shape[1] > 1 else None
            placed[i] = Assignment(
                units[i].unit_id,
                OTHER_ID if outside else self.theme_ids_[best],
                round(score, 4),
                self.theme_ids_[runner_up] if runner_up is not None else None,
                round(float(similarity[n, runner_up]), 4) if runner_up is not None else None,
            )
        return placed


def placer_cache() -> BlobCache:
    return BlobCache(cache_dir() / "cache.sqlite", CACHE_NAMESPACE)


def load_placer(key: str) -> ThemePlacer | None:
    """The placer the last run with these settings left (``key`` names the settings), if any.

    Pickled in our own cache folder, as Prefect pickles its stage results beside it: a placer left by another
    version of the library is under another key (``flows.runtime.stage_key`` hashes the library's code)."""
    cache = placer_cache()
    try:
        found = cache.get_many([key]).get(key)
    finally:
        cache.close()
    return pickle.loads(found) if found is not None else None


def save_placer(key: str, placer: ThemePlacer) -> None:
    cache = placer_cache()
    try:
        cache.put_many([(key, pickle.dumps(placer, protocol=pickle.HIGHEST_PROTOCOL))])
    finally:
        cache.close()
