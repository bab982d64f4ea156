"""Whether a theme's share in one segment value stands out, tested as survey researchers expect: the share with its
95% Wilson interval, a two-proportion z-test of that value's respondents against all the others, and the
Benjamini-Hochberg correction over every tested cell of the table (a table of many themes × values would otherwise
turn up "significant" cells by chance alone)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pipeline.records import Theme

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
ALPHA = 0.05  # significance level, after correction
# Under 30 respondents a share moves by over 3 points per respondent and the z-test's normal approximation is poor:
# such a cell (or one whose "rest" is that small) is shown with its base but not tested, as survey tables do.
MIN_BASE = 30


@dataclass(frozen=True)
class SegmentCell:
    """One theme in one segment value: its share of that value's respondents, and how it compares with the rest."""

    theme_id: str
    segment: str
    value: str
    share: float
    base: int  # the value's respondents (those with at least one kept idea unit)
    ci_low: float | None = None  # 95% Wilson interval; None without a base
    ci_high: float | None = None
    p_value: float | None = None  # two-sided, against the rest; None when not tested
    p_adjusted: float | None = None  # Benjamini-Hochberg over all tested cells of the table
    significant: bool = False
    direction: str = ""  # "above" or "below" the rest, when tested and different
    tested: bool = False


def wilson(hits: int, base: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval: unlike p ± z·se it stays inside [0, 1] and holds up for small or extreme shares."""
    p = hits / base
    denominator = 1 + z * z / base
    centre = (p + z * z / (2 * base)) / denominator
    half = z * math.sqrt(p * (1 - p) / base + z * z / (4 * base * base)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def pooled_standard_error(share_a: float, base_a: int, share_b: float, base_b: int) -> float:
    """The standard error of share_a − share_b if the two samples shared one share: the pooled share's."""
    pooled = (share_a * base_a + share_b * base_b) / (base_a + base_b)
    return math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / base_a + 1 / base_b))


def two_proportion_test(hits_a: int, base_a: int, hits_b: int, base_b: int) -> tuple[float, float]:
    """z and its two-sided p-value for "the two shares are equal", with the pooled share's standard error."""
    se = pooled_standard_error(hits_a / base_a, base_a, hits_b / base_b, base_b)
    if se == 0:  # nobody (or everybody) raises the theme on either side: no difference to test
        return 0.0, 1.0
    z = (hits_a / base_a - hits_b / base_b) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Adjusted p-values, in the input's order: p·m/rank, made non-decreasing in rank from the largest down."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def segment_cells(themes: list[Theme]) -> list[SegmentCell]:
    """Every theme × segment value, in the themes' order, tested against the rest and corrected over the table."""
    cells = [cell for t in themes for column in t.segments for cell in _column_cells(t, column)]
    tested = [i for i, c in enumerate(cells) if c.tested]
    adjusted = benjamini_hochberg([cells[i].p_value for i in tested])
    for i, p in zip(tested, adjusted, strict=True):
        cells[i] = replace(cells[i], p_adjusted=p, significant=p < ALPHA)
    return cells


def _column_cells(theme: Theme, column: str) -> list[SegmentCell]:
    """A theme's cells for one segment column; hits come back from share × base, the rest is the column's others."""
    shares = theme.segments[column]
    bases = theme.segment_bases.get(column, {})
    hits = {value: round(share * bases.get(value, 0)) for value, share in shares.items()}
    all_hits, all_base = sum(hits.values()), sum(bases.get(value, 0) for value in shares)
    cells = []
    for value, share in shares.items():
        base = bases.get(value, 0)
        cell = SegmentCell(theme.theme_id, column, value, share, base)
        if base:
            low, high = wilson(hits[value], base)
            cell = replace(cell, ci_low=low, ci_high=high)
        rest_hits, rest_base = all_hits - hits[value], all_base - base
        if base >= MIN_BASE and rest_base >= MIN_BASE:
            z, p = two_proportion_test(hits[value], base, rest_hits, rest_base)
            direction = "above" if z > 0 else "below" if z < 0 else ""
            cell = replace(cell, p_value=p, direction=direction, tested=True)
        cells.append(cell)
    return cells


@dataclass(frozen=True)
class WaveChange:
    """One theme's share in this wave against the previous one, tested as a survey table tests two waves."""

    theme_id: str
    previous_share: float
    previous_base: int  # the previous wave's respondents
    share: float
    base: int  # this wave's respondents
    p_value: float | None = None  # two-sided two-proportion z-test; None when a base is under MIN_BASE
    p_adjusted: float | None = None  # Benjamini-Hochberg over the wave's tested themes
    significant: bool = False
    tested: bool = False


def wave_changes(previous: dict[str, float], previous_base: int, current: dict[str, float], base: int) -> list[WaveChange]:
    """Each theme of ``current`` (a share per theme id) against its share in the previous wave (0 when it had none):
    two-proportion z-tests corrected over the wave's themes, as segment cells are over a table. Under ``MIN_BASE``
    respondents on either side nothing is tested."""
    changes = [WaveChange(t, previous.get(t, 0.0), previous_base, share, base) for t, share in current.items()]
    if previous_base < MIN_BASE or base < MIN_BASE:
        return changes
    # hits come back from share × base, as segment cells' do
    p_values = [
        two_proportion_test(round(c.share * base), base, round(c.previous_share * previous_base), previous_base)[1]
        for c in changes
    ]
    adjusted = benjamini_hochberg(p_values)
    return [
        replace(c, p_value=p, p_adjusted=q, significant=q < ALPHA, tested=True)
        for c, p, q in zip(changes, p_values, adjusted, strict=True)
    ]
