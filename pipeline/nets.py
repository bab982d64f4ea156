"""Nets: codes (the themes found) rolled up into broader themes, as coders build code frames.

A coder numbers a net 100 and its codes 101, 102; a net counts a respondent once, whatever codes they carry,
so its share is at most the sum of its codes' shares (../shared/notes/field-notes.md). Here codes are grouped
by average-linkage agglomeration of their centres (the mean vector of their idea units, cosine distance),
merged while closer than ``distance_threshold``. A codebook's ``net:`` puts its codes in the named net first,
and the codes nearest to them; a codebook theme without one is a named net of its own; two named nets never
merge. "Autres" and mixed codes (catch-alls) are never grouped: a net of a catch-all would be a bigger catch-all.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from pipeline import learn
from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, IdeaUnit, Theme

# Codes whose centres, seen from the mean of all units, are closer than this cosine distance (average over their
# pairs) share a net. Mean over seeds 0 to 5 of every k-means on FI8, FI7 and DC13 of elf_dev.csv (one-off script,
# bench/RESULTS.md), recovery F1 / rank rho: centres from the origin cut at 0.30 (as before) 0.507/0.47,
# 0.388/0.68, 0.402/0.55; from the mean at 0.75: 0.507/0.51, 0.383/0.62, 0.403/0.49; at 0.80: 0.508/0.51,
# 0.389/0.70, 0.407/0.52; at 0.85: 0.504/0.48, 0.390/0.73, 0.407/0.52. The figures barely move; the nets do: FI8's
# largest held 13 codes and 78% of the answers, fraud and tax rates together, and now fraud, evasion and
# loopholes are one net and income tax another. Rho over 15 to 21 human themes swings by 0.3 for one net more or
# less, and between seeds by as much (FI8: 0.36 to 0.68). Again with about sqrt(n) codes (pipeline.themes
# CODES_PER_ROOT): at 0.75: 0.526/0.58, 0.394/0.70, 0.419/0.65; at 0.80: 0.525/0.58, 0.397/0.73, 0.419/0.65; at
# 0.85: 0.516/0.50, 0.399/0.72, 0.420/0.67: 0.80 stays.
NET_DISTANCE = 0.80
# The run parameter holding the cut. Runs recorded before 2026-11-30 kept "net_distance", a cut from the origin
# (0.30): read as a cut from the mean it would leave every code alone, so they are netted at today's default.
NET_DISTANCE_KEY = "net_distance_from_mean"
# A code whose nearest code is in a codebook's named net joins that net when this close: as close as codes that
# share a net. The analyst said the area is one net: on the sample, the codes "managers, dirigeant, exemplarité"
# (0.73 from the sponsorship code, 8 of its 17 respondents coded sponsorship by hand) and "directeur, soutien"
# (0.71, 7 of 9) join; "moyens" is next (0.84), its nearest code none of the net's.
NAMED_JOIN_DISTANCE = NET_DISTANCE


@dataclass(frozen=True)
class Net:
    """A net as ranked and reported: its codes, and its respondents counted once."""

    net_id: str
    label: str
    code_ids: tuple[str, ...]
    rank: int = 0
    n_respondents: int = 0
    share: float = 0.0


class NetGrouping(learn.Estimator):
    """fit: group codes by their centres; ``labels_`` is the group of each code, ``names_`` a group's net name
    (the codebook's, or None for a group formed here).

    Named nets take their codes, then each other code whose nearest code is in one of them, within
    ``join_distance``; the codes left are grouped by average linkage under ``distance_threshold``."""

    def __init__(self, distance_threshold: float = NET_DISTANCE, join_distance: float = NAMED_JOIN_DISTANCE) -> None:
        self.distance_threshold = distance_threshold
        self.join_distance = join_distance

    def fit(self, centres: np.ndarray, named: list[str | None]) -> NetGrouping:
        """``centres``: one unit vector per code (zeros for a code with no unit); ``named``: its codebook net."""
        distance = 1.0 - centres @ centres.T if len(centres) else np.zeros((0, 0))
        names: list[str | None] = list(dict.fromkeys(n for n in named if n))
        groups = [[i for i, n in enumerate(named) if n == name] for name in names]
        for i in (i for i, n in enumerate(named) if not n):
            near = self._nearest(i, distance)
            if near is not None and named[near] and distance[i, near] < self.join_distance:
                groups[names.index(named[near])].append(i)
            else:
                groups.append([i])
                names.append(None)
        self._merge_unnamed(groups, names, distance)
        self.labels_ = np.empty(len(named), dtype=int)
        for g, members in enumerate(groups):
            self.labels_[members] = g
        self.names_ = names
        return self

    @staticmethod
    def _nearest(i: int, distance: np.ndarray) -> int | None:
        others = np.delete(np.arange(len(distance)), i)
        return int(others[np.argmin(distance[i, others])]) if len(others) else None

    def _merge_unnamed(self, groups: list[list[int]], names: list[str | None], distance: np.ndarray) -> None:
        """Average linkage among the unnamed groups: the two closest on average merge, while under the threshold
        (the first such pair in order when two are as close). Each pair's mean is kept and only the merged group's
        computed again: every pair at every merge took 0.2 s of a 63-code run's 0.6 s of ranking."""
        mean = np.full((len(groups), len(groups)), np.inf)
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if not (names[a] or names[b]):
                    mean[a, b] = _linkage(groups[a], groups[b], distance)
        while len(groups) > 1:
            a, b = (int(i) for i in np.unravel_index(np.argmin(mean), mean.shape))  # row by row: the first pair
            if not mean[a, b] < self.distance_threshold:
                return
            groups[a] += groups.pop(b)
            names.pop(b)
            mean = np.delete(np.delete(mean, b, axis=0), b, axis=1)
            for k in range(len(groups)):
                if k != a and not names[k]:
                    low, high = min(a, k), max(a, k)
                    mean[low, high] = _linkage(groups[low], groups[high], distance)


def _linkage(a: list[int], b: list[int], distance: np.ndarray) -> float:
    """The mean distance between two groups' members."""
    return float(distance[np.ix_(a, b)].mean())


def theme_centres(
    theme_ids: list[str],
    assignments: list[Assignment],
    units: list[IdeaUnit],
    vectors: np.ndarray,
    origin: np.ndarray | None = None,
) -> np.ndarray:
    """The unit-length mean of each theme's unit vectors (zeros for a theme with no unit), seen from ``origin``."""
    row_of = {u.unit_id: i for i, u in enumerate(units)}
    rows: dict[str, list[int]] = {theme_id: [] for theme_id in theme_ids}
    for a in assignments:
        if a.theme_id in rows:
            rows[a.theme_id].append(row_of[a.unit_id])
    return group_centres(list(rows.values()), vectors, origin)


def nearest_assignments(assignments: list[Assignment]) -> list[Assignment]:
    """Each unit's first assignment: its nearest code, as the clustering gave it, before the codes its words added
    (``pipeline.label_codes``)."""
    first: dict[str, Assignment] = {}
    for a in assignments:
        first.setdefault(a.unit_id, a)
    return list(first.values())


def group_centres(groups: list[list[int]], vectors: np.ndarray, origin: np.ndarray | None = None) -> np.ndarray:
    """The unit-length mean of each group of rows of ``vectors`` (zeros for an empty group), as a direction from
    ``origin`` (by default the zero vector); the rows are not copied, which at 100,000 units would cost 250 MB."""
    sums = np.zeros((len(groups), vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float64)
    for n, members in enumerate(groups):
        if members:
            sums[n] = vectors[members].sum(axis=0)
            if origin is not None:
                sums[n] -= len(members) * origin
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)


def net_id_of(code_ids: list[str]) -> str:
    """A code alone is its own net; a net of several codes is named by them, whatever their order."""
    if len(code_ids) == 1:
        return code_ids[0]
    return "n-" + hashlib.sha1("\n".join(sorted(code_ids)).encode()).hexdigest()[:8]


def add_nets(
    themes: list[Theme],
    assignments: list[Assignment],
    units: list[IdeaUnit],
    vectors: np.ndarray,
    codebook_nets: dict[str, str] | None = None,
    distance_threshold: float = NET_DISTANCE,
    join_distance: float = NAMED_JOIN_DISTANCE,
) -> list[Theme]:
    """Fill each theme's ``net_id`` and ``net_label``; return the themes ranked nets first, then codes inside each
    net in the order they came (``rank_themes``'s), ``rank`` renumbered in that order.

    ``codebook_nets``: theme id -> net label, from the codebook's ``net:`` entries. A codebook theme without one is
    a net of its own name: the analyst's codes are grouped as the codebook says, not by distance (the sample's
    "Mesure et indicateurs" and "Reconnaissance et objectifs" are 0.71 apart, as close as codes that share a net);
    the codes found join them as they join a named net."""
    codes = [t for t in themes if t.theme_id != OTHER_ID and not t.mixed]
    named = {**{t.theme_id: t.label for t in codes if t.from_codebook}, **(codebook_nets or {})}
    # the codes as clustered: the units a code's words added to it would pull its centre towards their own codes.
    # Seen from the mean of all units: every answer shares the question's subject, and from the origin that shared
    # part made the codes nearest it chain into one net (FI8: 13 codes, 78% of the answers, fraud and tax rates
    # together).
    centres = theme_centres(
        [t.theme_id for t in codes],
        nearest_assignments(assignments),
        units,
        vectors,
        vectors.mean(axis=0) if len(vectors) else None,
    )
    grouping = NetGrouping(distance_threshold, join_distance).fit(centres, [named.get(t.theme_id) for t in codes])
    members: dict[int, list[Theme]] = defaultdict(list)
    for theme, group in zip(codes, grouping.labels_.tolist(), strict=True):
        members[group].append(theme)
    for group, inside in members.items():
        largest = max(inside, key=lambda t: (t.n_respondents, t.n_units))  # first of equals: rank order
        net_id, label = net_id_of([t.theme_id for t in inside]), grouping.names_[group] or largest.label
        for theme in inside:
            theme.net_id, theme.net_label = net_id, label
    for theme in themes:
        if theme.theme_id == OTHER_ID or theme.mixed:  # alone, as they were
            theme.net_id, theme.net_label = theme.theme_id, OTHER_LABEL if theme.theme_id == OTHER_ID else theme.label
    return rank_by_nets(themes, assignments, units)


def rank_by_nets(themes: list[Theme], assignments: list[Assignment], units: list[IdeaUnit]) -> list[Theme]:
    """Themes whose nets are set, ranked nets first (respondents counted once per net), then the codes inside
    each in the order they came; ``rank`` renumbered in that order."""
    order = {net.net_id: net.rank for net in summarise_nets(themes, assignments, units)}
    ranked = sorted(themes, key=lambda t: order[t.net_id or t.theme_id])  # stable: codes keep their order
    for rank, theme in enumerate(ranked, start=1):
        theme.rank = rank
    return ranked


def summarise_nets(themes: list[Theme], assignments: list[Assignment], units: list[IdeaUnit]) -> list[Net]:
    """Nets ranked by respondents, each counted once per net ("Autres" last, then nets of mixed codes only).

    A theme with no net (a run from before nets) is its own net. Shares are of respondents with a kept unit."""
    respondent_of = {u.unit_id: u.respondent_id for u in units}
    net_of = {t.theme_id: t.net_id or t.theme_id for t in themes}
    who: dict[str, set[str]] = defaultdict(set)
    for a in assignments:
        if a.theme_id in net_of:
            who[net_of[a.theme_id]].add(respondent_of[a.unit_id])
    codes: dict[str, list[Theme]] = defaultdict(list)
    for theme in themes:
        codes[net_of[theme.theme_id]].append(theme)
    base = len(set(respondent_of.values()))

    def order(net_id: str) -> tuple:
        inside = codes[net_id]
        return (net_id == OTHER_ID, all(t.mixed for t in inside), -len(who[net_id]), inside[0].net_label)

    return [
        Net(
            net_id,
            codes[net_id][0].net_label or codes[net_id][0].label,
            tuple(t.theme_id for t in codes[net_id]),
            rank,
            len(who[net_id]),
            len(who[net_id]) / base if base else 0.0,
        )
        for rank, net_id in enumerate(sorted(codes, key=order), start=1)
    ]


def count_nets(themes: list[Theme]) -> int:
    """Nets among ranked themes, for the manifest's counts ("Autres" counts as one, as it counts as a theme)."""
    return len({t.net_id or t.theme_id for t in themes})
