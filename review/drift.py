"""Which themes' shares moved between two waves by more than sampling noise explains.

Each wave is a sample of respondents: a theme's share in it is a binomial proportion. Two waves of the same
survey differ by chance; a theme is flagged when the two-proportion z-test says its share moved by more
than chance explains, at a family-wise error rate of ``FAMILY_ALPHA`` across every theme compared
(Bonferroni). A model that sends most of a wave to one theme moves that share far beyond the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

from pipeline.significance import pooled_standard_error

# 5% chance, over a whole wave, that at least one theme is flagged although nothing but chance changed:
# with ~10 themes Bonferroni puts the two-sided z at 2.81, so a 20-point move between waves of 200
# respondents (share around 15-35%) is flagged and a 5-point move is not.
FAMILY_ALPHA = 0.05


@dataclass(frozen=True)
class ShareMove:
    """A theme whose share moved beyond the noise bound."""

    theme_id: str
    before: float  # share of the previous wave's respondents
    after: float  # share of this wave's respondents
    bound: float  # the largest move chance explains for these two samples, as a share

    @property
    def points(self) -> float:
        return 100 * (self.after - self.before)


def critical_z(themes: int, alpha: float = FAMILY_ALPHA) -> float:
    """Two-sided z for ``alpha`` shared by ``themes`` tests (Bonferroni)."""
    return NormalDist().inv_cdf(1 - alpha / (2 * max(themes, 1)))


def noise_bound(before: float, n_before: int, after: float, n_after: int, z: float) -> float:
    """The largest |after - before| chance explains: z standard errors of the difference (the segment tests' z-test
    of ``pipeline.significance``, its bound)."""
    return z * pooled_standard_error(before, n_before, after, n_after)


def share_moves(before: dict[str, float], n_before: int, after: dict[str, float], n_after: int) -> list[ShareMove]:
    """Themes known in both waves' model whose share moved beyond the bound, largest move first.

    A theme missing from one side has a share of 0 there (a known theme nobody raised any more is a move
    too); themes proposed in this wave are not in ``after`` and are not compared.
    """
    if n_before <= 0 or n_after <= 0:
        return []
    themes = sorted({*before, *after})
    z = critical_z(len(themes))
    moves = []
    for theme in themes:
        p0, p1 = before.get(theme, 0.0), after.get(theme, 0.0)
        bound = noise_bound(p0, n_before, p1, n_after, z)
        if abs(p1 - p0) > bound:
            moves.append(ShareMove(theme, p0, p1, bound))
    return sorted(moves, key=lambda m: -abs(m.points))
