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

from pipeline.messages import plural, plural_word, say

# Measured with bench/retrain_guard.py (bench/RESULTS.md, "retrain_guard": FI8, FI7, DC13 of elf_dev.csv, random
# reviewed samples, held-out answers). A theme seen 1-2 times scores F1 0 on most held-out answers (89% and 62%
# of themes) and beats answering "yes" to every answer for 8% and 23% of themes; at 4 units half do, at 5-6 two
# thirds (66%; median F1 0.27 against 0.15) and only 13% still score 0.
MIN_UNITS_PER_THEME = 5
# Below 50 reviewed units the model's largest error on a theme's share of the held-out answers is 21-51 points,
# 1.5-1.9 times that of simply taking the reviewed sample's own shares; from 50 on it is 5-25 points and within
# 0.9-1.45 times on every question (it never drops below the sample's own on all three: the classifier's bias).
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


def describe(gap: Shortfall, labels: dict[str, str]) -> str:
    """What is missing, in French, themes by their labels: « il faut au moins 50 idées revues (4 pour
    l'instant) ; 2 thèmes ont moins de 5 idées revues : Sponsoring (3), Embarquer (1) »."""
    parts = []
    if gap.total_missing:
        parts.append(say("guard.total", needed=MIN_UNITS_TOTAL, have=gap.total))
    if gap.themes_short:
        have = sorted(((MIN_UNITS_PER_THEME - missing, labels.get(t, t)) for t, missing in gap.themes_short.items()))
        names = ", ".join(f"{label} ({n})" for n, label in have)
        themes = plural(len(have), "theme")
        parts.append(
            say("guard.themes", themes=themes, has=plural_word(len(have), "has"), needed=MIN_UNITS_PER_THEME, names=names)
        )
    return " ; ".join(parts)


def as_metrics(gap: Shortfall, labels: dict[str, str]) -> dict:
    """The guard's facts as kept in a model row's metrics JSON (labels let pages name the short themes)."""
    return {
        "total": gap.total,
        "total_missing": gap.total_missing,
        "themes_short": gap.themes_short,
        "labels": {t: labels.get(t, t) for t in gap.themes_short},
        "min_per_theme": MIN_UNITS_PER_THEME,
        "min_total": MIN_UNITS_TOTAL,
    }


def recorded(metrics: dict) -> tuple[Shortfall, dict[str, str]] | None:
    """The guard's facts of a saved model, None for a model trained before the guard."""
    facts = metrics.get("guard")
    if facts is None:
        return None
    return Shortfall(facts["total"], facts["total_missing"], dict(facts["themes_short"])), dict(facts["labels"])


def unmet(metrics: dict) -> str | None:
    """Why a saved model is below the guard, in French; None when it met it."""
    found = recorded(metrics)
    if found is None:
        return say("guard.before")
    gap, labels = found
    return None if gap.ok else describe(gap, labels)
