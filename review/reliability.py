"""Agreement between coders beyond chance: Krippendorff's alpha (nominal) and Cohen's kappa.

Both say 1 for perfect agreement and 0 for what chance alone would give. Alpha takes any number of coders
and missing codings (a unit coded by fewer than two is left out, as in Krippendorff 2011); kappa compares
two coders on the same units. Each is None when undefined: a single category used throughout leaves no
chance disagreement to measure against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

from pipeline import learn

Value = Hashable


def krippendorff_alpha(units: Sequence[Sequence[Value | None]]) -> float | None:
    """Nominal alpha of the values each unit got, one per coder (None: that coder did not code the unit).

    Built on the coincidence matrix: each ordered pair of values two coders gave one unit counts 1/(m-1),
    m being the values the unit got; alpha = 1 - (n-1) * disagreeing pairs / sum over c != k of n_c * n_k.
    """
    coincidences: Counter[tuple[Value, Value]] = Counter()
    for values in units:
        present = [v for v in values if v is not None]
        for i, c in enumerate(present):
            for j, k in enumerate(present):
                if i != j:
                    coincidences[c, k] += 1 / (len(present) - 1)
    totals: Counter[Value] = Counter()
    for (c, _), weight in coincidences.items():
        totals[c] += weight
    n = sum(totals.values())
    chance = n * n - sum(v * v for v in totals.values())  # sum over c != k of n_c * n_k
    if chance <= 1e-12:
        return None
    observed = sum(weight for (c, k), weight in coincidences.items() if c != k)
    return 1 - (n - 1) * observed / chance


def cohen_kappa(first: Sequence[Value], second: Sequence[Value]) -> float | None:
    """Cohen's kappa of two coders' values on the same units (scikit-learn's), None when undefined."""
    if len(first) != len(second):
        raise ValueError("kappa compares two coders on the same units: the sequences differ in length")
    if len({*first, *second}) < 2:
        return None
    return float(learn.cohen_kappa_score(list(first), list(second)))


def observed_agreement(first: Sequence[Value], second: Sequence[Value]) -> float | None:
    """The share of units on which the two coders gave the same value (None without units)."""
    if not first:
        return None
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
