"""Rank themes by how many respondents raise them, and pick quotes a report writer can use as is."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from pipeline.masking import has_placeholder
from pipeline.records import OTHER_ID, Assignment, IdeaUnit, Response, Theme

QUOTES_PER_THEME = 5
MAX_QUOTE_CHARS = 280
# Quote picking trades closeness to the theme against difference from quotes already chosen (MMR).
DIVERSITY = 0.5
# Two candidate quotes this similar say the same thing: the second is skipped.
MAX_QUOTE_SIMILARITY = 0.9


def trim_quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + " …"


def masked(text: str) -> bool:
    """Whether cleaning masked personal data in the text: "[NOM] m'a aidé" is no quote for a report."""
    return has_placeholder(text)


def pick_quotes(indices: np.ndarray, scores: np.ndarray, vectors: np.ndarray, texts: list[str]) -> list[str]:
    """Up to QUOTES_PER_THEME units close to the theme's centre and different from each other; a unit with a
    masked token only when the theme has nothing else to quote."""
    chosen: list[int] = []
    clean = np.array([i for i in indices if not masked(texts[i])], dtype=int)
    indices = clean if len(clean) else indices
    order = indices[np.argsort(-scores[indices], kind="stable")][:200]  # the closest are the candidates
    seen_texts: set[str] = set()
    # each candidate's highest similarity to a chosen quote, brought up to date as each quote is chosen (recomputed
    # over every chosen quote at each choice, it was a quarter of a 63-code run's ranking)
    closest = dict.fromkeys(order.tolist(), -np.inf)
    while len(chosen) < QUOTES_PER_THEME:
        best, best_value = None, -np.inf
        for i in order:
            if i in chosen or texts[i].lower() in seen_texts:
                continue
            redundancy = closest[i] if chosen else 0.0
            if redundancy > MAX_QUOTE_SIMILARITY:
                continue
            value = (1 - DIVERSITY) * scores[i] - DIVERSITY * redundancy
            if value > best_value:
                best, best_value = i, value
        if best is None:
            break
        chosen.append(best)
        seen_texts.add(texts[best].lower())
        if len(chosen) < QUOTES_PER_THEME:  # what the next choice reads
            for i in closest:
                closest[i] = max(closest[i], float(vectors[i] @ vectors[best]))
    return [trim_quote(texts[i]) for i in chosen]


def rank_themes(
    themes: list[Theme],
    assignments: list[Assignment],
    units: list[IdeaUnit],
    vectors: np.ndarray,
    responses: list[Response],
    segment_columns: list[str],
) -> list[Theme]:
    """Fill counts, shares, quotes and segment shares; rank by respondents, "Autres" last.

    Shares are of respondents with at least one kept idea unit: a respondent counts once per theme,
    however many of their ideas fall in it, so shares of a multi-idea survey add up to more than 100%.
    """
    unit_index = {u.unit_id: i for i, u in enumerate(units)}
    texts = [u.text for u in units]
    segments_of = {r.respondent_id: r.segments for r in responses}
    respondents = {u.respondent_id for u in units}
    base = _segment_base(respondents, segments_of, segment_columns)
    by_theme: dict[str, list[int]] = defaultdict(list)
    # a unit carrying several themes has a score in each: quotes are picked on the theme's own
    scores_of: dict[str, list[float]] = defaultdict(list)
    for a in assignments:
        by_theme[a.theme_id].append(unit_index[a.unit_id])
        scores_of[a.theme_id].append(a.score)
    scores = np.zeros(len(units))
    for theme in themes:
        members = np.array(by_theme.get(theme.theme_id, []), dtype=int)
        who = {units[i].respondent_id for i in members}
        theme.n_units = len(members)
        theme.n_respondents = len(who)
        theme.share = len(who) / len(respondents) if respondents else 0.0
        scores[members] = scores_of.get(theme.theme_id, [])
        theme.quotes = pick_quotes(members, scores, vectors, texts) if len(members) else []
        theme.segments = _segment_shares(who, segments_of, segment_columns, base)
        theme.segment_bases = {column: dict(sorted(counts.items())) for column, counts in base.items()}
    ranked = sorted(themes, key=_rank_key)
    for rank, theme in enumerate(ranked, start=1):
        theme.rank = rank
    return ranked


def _rank_key(theme: Theme) -> tuple:
    """By respondents; "Autres" and themes still mixed after refinement never above a coherent theme, whatever
    their size, and "Autres" last of all."""
    other = theme.theme_id == OTHER_ID
    return (other or theme.mixed, other, -theme.n_respondents, theme.label)


def _segment_base(respondents, segments_of, columns) -> dict[str, dict[str, int]]:
    base: dict[str, dict[str, int]] = {c: defaultdict(int) for c in columns}
    for rid in respondents:
        for column in columns:
            base[column][segments_of.get(rid, {}).get(column) or "(vide)"] += 1
    return base


def _segment_shares(who, segments_of, columns, base) -> dict[str, dict[str, float]]:
    """Per segment value, the share of that value's respondents who raise the theme."""
    shares: dict[str, dict[str, float]] = {}
    for column in columns:
        hits: dict[str, int] = defaultdict(int)
        for rid in who:
            hits[segments_of.get(rid, {}).get(column) or "(vide)"] += 1
        shares[column] = {value: hits[value] / total for value, total in sorted(base[column].items())}
    return shares
