"""When a retrained theme model has seen enough reviewed units to be promoted.

A model learnt from a handful of reviews scores a flattering cross-validated F1 and then sends most of a new
wave to whichever theme it saw most. It is promoted only when every theme it predicts has at least
``MIN_UNITS_PER_THEME`` reviewed units and it learnt from at least ``MIN_UNITS_TOTAL`` in all.

The off-topic pseudo-theme (``review.corrections.OFF_TOPIC``) counts like any theme: the classifier predicts
it and classify sets those units aside, so an off-topic class learnt from two examples throws answers away
as wrongly as a two-example theme mislabels them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Provisional: tuned with bench/retrain_guard.py (section "retrain_guard" of bench/RESULTS.md).
MIN_UNITS_PER_THEME = 5
MIN_UNITS_TOTAL = 50


@dataclass(frozen=True)
class Shortfall:
    """What a training set lacks before a model learnt from it may be promoted."""

    total: int  # reviewed units counted
    total_missing: int  # units still needed to reach MIN_UNITS_TOTAL, 0 if met
    themes_short: dict[str, int] = field(default_factory=dict)  # theme id -> units still needed, themes under the bar

    @property
    def ok(self) -> bool:
        return self.total_missing == 0 and not self.themes_short


def shortfall(label_sets: list[list[str]]) -> Shortfall:
    """The shortfall of reviewed units whose themes are ``label_sets`` (one list per unit)."""
    per_theme = Counter(theme for themes in label_sets for theme in set(themes))
    short = {theme: MIN_UNITS_PER_THEME - n for theme, n in sorted(per_theme.items()) if n < MIN_UNITS_PER_THEME}
    return Shortfall(len(label_sets), max(0, MIN_UNITS_TOTAL - len(label_sets)), short)
