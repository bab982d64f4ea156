"""Nets: codes (the themes found) rolled up into broader themes, as coders build code frames.

A coder numbers a net 100 and its codes 101, 102; a net counts a respondent once, whatever codes they carry,
so its share is at most the sum of its codes' shares (../shared/notes/field-notes.md). Here codes are grouped
by average-linkage agglomeration of their centres (the mean vector of their idea units, cosine distance),
merged while closer than ``distance_threshold``. A codebook's ``net:`` puts its codes in the named net first,
and the codes nearest to them; two named nets never merge. "Autres" and mixed codes (catch-alls) are never
grouped: a net of a catch-all would be a bigger catch-all.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, IdeaUnit, Theme

# Codes whose centres are closer than this cosine distance (average over their pairs) share a net. Chosen on
# FI8, FI7 and DC13 of elf_dev.csv when it gave recovery F1 / rank rho 0.458/0.69, 0.334/0.69, 0.390/0.85. Measured
# again on 2026-11-29 with today's codes (38, 23, 18; /tmp script over one analysis per question, cuts re-applied):
# at 0.25: 0.442/0.26, 0.325/0.53, 0.389/0.54; at 0.30: 0.460/0.47, 0.344/0.64, 0.398/0.50; at 0.35: 0.460/0.58,
# 0.347/0.66, 0.385/0.36; at 0.40: 0.447/0.25, 0.366/0.68, 0.375/0.49; at 0.45 to 0.50: about 0.445/0.23,
# 0.385/0.86, 0.373/0.49. No cut reaches rho 0.65 on all three (rho over 15 to 21 human themes swings by 0.3 for
# one net more or less); 0.30 keeps the best F1 on FI8 and DC13, and no net is a bag (its answers' commonest human
# theme under 35%) from 0.30 up. Offering nets at two cuts (0.30 and 0.40 to 0.50) as a second level did no
# better (0.463/0.57, 0.389/0.84, 0.400/0.56). Complete linkage did no better either (0.457, 0.324, 0.399 at 0.30).
NET_DISTANCE = 0.30
# A code whose nearest code is in a codebook's named net joins that net when this close. The analyst said the
# area is one net: on the sample, the codes "managers, dirigeant, exemplarité" (0.35 from the sponsorship code,
# 8 of its 17 respondents coded sponsorship by hand) and "directeur, soutien" (0.40, 7 of 9) join; the next
# code whose nearest is sponsorship would be at 0.52 ("moyens", nearest code of none).
NAMED_JOIN_DISTANCE = 0.45


@dataclass(frozen=True)
class Net:
    """A net as ranked and reported: its codes, and its respondents counted once."""

    net_id: str
    label: str
    code_ids: tuple[str, ...]
    rank: int = 0
    n_respondents: int = 0
    share: float = 0.0


class NetGrouping(BaseEstimator):
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
        while (pair := self._closest(groups, names, distance)) is not None:
            a, b = pair
            groups[a] += groups.pop(b)
            names.pop(b)
        self.labels_ = np.empty(len(named), dtype=int)
        for g, members in enumerate(groups):
            self.labels_[members] = g
        self.names_ = names
        return self

    @staticmethod
    def _nearest(i: int, distance: np.ndarray) -> int | None:
        others = np.delete(np.arange(len(distance)), i)
        return int(others[np.argmin(distance[i, others])]) if len(others) else None

    def _closest(self, groups, names, distance) -> tuple[int, int] | None:
        """The two unnamed groups closest on average, if under the threshold."""
        best, best_distance = None, self.distance_threshold
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if names[a] or names[b]:
                    continue
                d = float(distance[np.ix_(groups[a], groups[b])].mean())
                if d < best_distance:
                    best, best_distance = (a, b), d
        return best


def theme_centres(
    theme_ids: list[str], assignments: list[Assignment], units: list[IdeaUnit], vectors: np.ndarray
) -> np.ndarray:
    """The unit-length mean of each theme's unit vectors (zeros for a theme with no unit)."""
    row_of = {u.unit_id: i for i, u in enumerate(units)}
    rows: dict[str, list[int]] = {theme_id: [] for theme_id in theme_ids}
    for a in assignments:
        if a.theme_id in rows:
            rows[a.theme_id].append(row_of[a.unit_id])
    return group_centres(list(rows.values()), vectors)


def nearest_assignments(assignments: list[Assignment]) -> list[Assignment]:
    """Each unit's first assignment: its nearest code, as the clustering gave it, before the codes its words added
    (``pipeline.label_codes``)."""
    first: dict[str, Assignment] = {}
    for a in assignments:
        first.setdefault(a.unit_id, a)
    return list(first.values())


def group_centres(groups: list[list[int]], vectors: np.ndarray) -> np.ndarray:
    """The unit-length mean of each group of rows of ``vectors`` (zeros for an empty group)."""
    sums = np.zeros((len(groups), vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float64)
    for n, members in enumerate(groups):
        if members:
            sums[n] = vectors[members].sum(axis=0)
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

    ``codebook_nets``: theme id -> net label, from the codebook's ``net:`` entries."""
    named = codebook_nets or {}
    codes = [t for t in themes if t.theme_id != OTHER_ID and not t.mixed]
    # the codes as clustered: the units a code's words added to it would pull its centre towards their own codes
    centres = theme_centres([t.theme_id for t in codes], nearest_assignments(assignments), units, vectors)
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
