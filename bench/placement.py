"""How many new answers the warm path can place in the last clustering's themes before the themes should be found
again (issue 19, ``pipeline.placement.MAX_CHANGED_SHARE``).

For each question of the labelled data and each held-out share s, a seeded random s of the answers is held out;
the rest is analysed as ``Analysis().run`` does and a ``ThemePlacer`` is fitted on its themes; then every answer
is cleaned and embedded, placed (the held-out ones are the new units) and ranked into codes and nets, and scored
as ``bench/quality.py`` scores "verbatims (ours)". The anchor, in the same run: the cold analysis of every answer,
and the same with other k-means seeds (clustering and the refiner's splits), which gives the noise floor of each
figure and of the agreement (mean NMI between a run's main code per answer and each cold run's).

    .venv/bin/python bench/placement.py [--data ../shared/data/elf_dev.csv] [--questions FI8 FI7 DC13]
        [--shares 0.02 0.05 0.1 0.2 0.3] [--seeds 0 1 2 3] [--cold-seeds 0 1 ... 7] [--no-write]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA, EXCLUDED, coding_measures, prediction, score  # noqa: E402
from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from pipeline.placement import MAX_CHANGED_SHARE, THEME_PATH, ThemePlacer  # noqa: E402
from pipeline.records import Dataset, Response  # noqa: E402

SHARES = (0.02, 0.03, 0.05, 0.10, 0.20, 0.30)
# A miss smaller than this, on figures shown to the third decimal, counts as a tie: the means of four warm runs
# otherwise fail on 0.001 of ARI or one answer more in a bag, well inside the cold runs' own spread.
TIE = 0.003
# figure -> True when higher is better; "within noise" means no worse than the worst cold run on it
FIGURES = {
    "nmi": True,
    "ari": True,
    "macro_f1": True,
    "recovery_f1": True,
    "rank_rho": True,
    "bags": False,
    "agreement": True,
}


def dataset_of(frame: pd.DataFrame) -> Dataset:
    return Dataset([Response(i, t) for i, t in zip(frame.id, frame.text, strict=True)], "text", "id", [], [], "")


@dataclass
class Outcome:
    """One run of one question, scored."""

    method: str
    figures: dict[str, float]
    main_code: dict[str, str]  # answer id -> its main code (that of its longest idea unit), for the agreement
    seconds: float
    changed_units: float = float("nan")  # units new since the clustering, as a share of the file's units
    placed_in_other: int = 0


def scored(frame: pd.DataFrame, method: str, analysed: Analysed, seconds: float) -> Outcome:
    predicted = prediction(analysed)
    figures = {**score(frame, predicted.themes), **coding_measures(frame, predicted)}
    main_code = {rid: predicted.themes.get(rid, [EXCLUDED])[0] for rid in frame.id}
    return Outcome(method, figures, main_code, seconds)


def agreement(a: Outcome, b: Outcome) -> float:
    ids = sorted(a.main_code)
    return float(normalized_mutual_info_score([a.main_code[i] for i in ids], [b.main_code[i] for i in ids]))


def cold(frame: pd.DataFrame, seed: int) -> Outcome:
    start = time.perf_counter()
    analysed = Analysis(random_state=seed).run(dataset_of(frame))
    return scored(frame, f"cold all (k-means seed {seed})", analysed, time.perf_counter() - start)


def warm(frame: pd.DataFrame, share: float, seed: int) -> Outcome:
    """Themes found on all but a seeded random ``share`` of the answers, then every answer placed in them."""
    start = time.perf_counter()
    analysis = Analysis()
    held_out = np.random.default_rng(seed).choice(len(frame), round(share * len(frame)), replace=False)
    before = analysis.run(dataset_of(frame.drop(index=held_out)))
    placer = ThemePlacer(max_changed_share=1.0).fit(before.clustered, before.cleaned.units, before.vectors)
    dataset = dataset_of(frame)
    cleaned = analysis.clean(dataset)
    vectors, computed = analysis.embed([u.text for u in cleaned.units])
    placed = placer.place(cleaned.units, vectors)
    themes = analysis.nets(analysis.rank(placed, cleaned.units, vectors, dataset), placed, cleaned.units, vectors)
    analysed = Analysed(dataset, cleaned, placed, themes, vectors, computed)
    outcome = scored(frame, f"warm (held-out seed {seed})", analysed, time.perf_counter() - start)
    path = placed.parameters[THEME_PATH]
    outcome.changed_units = (path["new_units"] + path["gone_units"]) / len(cleaned.units)
    outcome.placed_in_other = path["placed_in_other"]
    return outcome


def compare(outcomes: list[Outcome], colds: list[Outcome]) -> None:
    """Each run's agreement: its mean NMI with the cold runs (a cold run's: with the other cold runs)."""
    for outcome in outcomes:
        others = [c for c in colds if c is not outcome]
        outcome.figures["agreement"] = float(np.mean([agreement(outcome, c) for c in others])) if others else 1.0


def band(colds: list[Outcome], name: str) -> tuple[float, float]:
    values = [c.figures[name] for c in colds if not math.isnan(c.figures[name])]
    return (min(values), max(values)) if values else (math.nan, math.nan)


def mean_of(outcomes: list[Outcome], name: str) -> float:
    values = [o.figures[name] for o in outcomes if not math.isnan(o.figures[name])]
    return float(np.mean(values)) if values else math.nan


def worse_than_cold(warms: list[Outcome], colds: list[Outcome]) -> list[str]:
    """The figures whose mean over the warm runs is worse than every cold run's by ``TIE`` or more, with the miss."""
    worse = []
    for name, higher in FIGURES.items():
        low, high = band(colds, name)
        miss = (low - mean_of(warms, name)) if higher else (mean_of(warms, name) - high)
        if miss >= TIE:
            worse.append(f"{name} ({miss:.3f})")
    return worse


def shown(name: str, value: float) -> str:
    if math.isnan(value):
        return "n/a"  # rank rho when the matches' shares are all equal
    return f"{value:.1%}" if name == "bags" else f"{value:.2f}" if name == "rank_rho" else f"{value:.3f}"


SUMMARY = [
    "| question | held-out share | runs | units new | NMI | ARI | macro-F1 | recovery F1 | rank ρ | bags | agreement "
    "| worse than every cold run on |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]
DETAIL = [
    "| question | held-out share | run | units new | new in Autres | codes | NMI | ARI | macro-F1 | recovery F1 "
    "| rank ρ | bags | agreement | time (s) |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def detail_row(question: str, share: str, outcome: Outcome) -> str:
    f = outcome.figures
    placed = not math.isnan(outcome.changed_units)
    new, other = (f"{outcome.changed_units:.1%}", str(outcome.placed_in_other)) if placed else ("", "")
    figures = " | ".join(shown(name, f[name]) for name in FIGURES)
    return (
        f"| {question} | {share} | {outcome.method} | {new} | {other} | {f['codes']} | {figures} | {outcome.seconds:.0f} |"
    )


def summary_rows(question: str, colds: list[Outcome], warms: dict[float, list[Outcome]]) -> tuple[list[str], dict]:
    """The cold runs' band, then each share's warm means; and for each share whether it stayed in the band."""
    ranges = " | ".join(f"{shown(n, band(colds, n)[0])} to {shown(n, band(colds, n)[1])}" for n in FIGURES)
    rows = [f"| {question} | 0 | cold, {len(colds)} k-means seeds: lowest to highest |  | {ranges} |  |"]
    kept = {}
    for share, runs in warms.items():
        worse = worse_than_cold(runs, colds)
        kept[share] = not worse
        new = float(np.mean([o.changed_units for o in runs]))
        means = " | ".join(shown(n, mean_of(runs, n)) for n in FIGURES)
        rows.append(
            f"| {question} | {share:.0%} | warm, mean of {len(runs)} held-out seeds | {new:.1%} | {means} | "
            f"{', '.join(worse) or 'none'} |"
        )
    return rows, kept


def question_rows(
    question: str, frame: pd.DataFrame, shares: list[float], seeds: list[int], cold_seeds: list[int]
) -> tuple[list[str], list[str], dict[float, bool]]:
    """The question's summary and detail rows, and for each share whether its warm runs stayed in the cold band."""
    colds = [cold(frame, seed) for seed in cold_seeds]
    compare(colds, colds)
    detail = [detail_row(question, "0", c) for c in colds]
    print(*detail, sep="\n", flush=True)
    warms: dict[float, list[Outcome]] = {}
    for share in shares:
        for seed in seeds:
            outcome = warm(frame, share, seed)
            compare([outcome], colds)
            warms.setdefault(share, []).append(outcome)
            detail.append(detail_row(question, f"{share:.0%}", outcome))
            print(detail[-1], flush=True)
    summary, kept = summary_rows(question, colds, warms)
    print(*summary, sep="\n", flush=True)
    return summary, detail, kept


def verdict(kept: dict[str, dict[float, bool]], shares: list[float]) -> float | None:
    """The largest share such that it and every smaller share stayed within noise on every question."""
    largest = None
    for share in sorted(shares):
        if not all(by_share[share] for by_share in kept.values()):
            break
        largest = share
    return largest


def report(
    data_name: str, summary: list[str], detail: list[str], kept: dict[str, dict[float, bool]], shares: list[float]
) -> str:
    largest = verdict(kept, shares)
    per_question = "; ".join(f"{q}: {', '.join(f'{s:.0%}' for s in shares if ok[s]) or 'none'}" for q, ok in kept.items())
    return "\n".join(
        [
            "## The warm path's threshold (`.venv/bin/python bench/placement.py`)",
            "",
            f'Data: `{data_name}`, one question at a time, scored as `bench/quality.py` scores "verbatims (ours)". '
            "Cold: `Analysis().run` on every answer, under several seeds of every k-means (clustering and the "
            "refiner's splits; seed 0 is the product's): their spread is the noise floor. Warm: a seeded random "
            "share of the answers held out, themes found on the rest (`Analysis().run`), then every answer cleaned, "
            "embedded and placed with `pipeline.placement.ThemePlacer` (the held-out answers' units are the new "
            "ones), ranked and rolled into nets. Units new: the placer's new and gone units as a share of the "
            f"file's units, what `MAX_CHANGED_SHARE` (now {MAX_CHANGED_SHARE:.2f}) is compared with. Agreement: the "
            'mean NMI between a run\'s main code per answer (that of its longest idea unit; "Autres" is a code, '
            "answers set aside one more) and each cold run's (a cold run: each other cold run's). A share is within "
            "noise when the mean of its warm runs is, on every figure, no worse than the worst cold run "
            f"(bags: no higher than the highest), misses under {TIE} counted as ties; the last column gives each "
            "miss beyond that.",
            "",
            *SUMMARY,
            *summary,
            "",
            f"Shares within noise: {per_question}. "
            + (
                f"Largest share within noise on every question (and every smaller one): **{largest:.0%}**."
                if largest is not None
                else "No share stayed within noise on every question."
            ),
            "",
            "Every run (new in Autres: new units placed in the catch-all; times include cleaning and embedding only "
            "where the cache was cold):",
            "",
            *DETAIL,
            *detail,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--shares", nargs="+", type=float, default=list(SHARES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3], help="seeds of the held-out answers")
    parser.add_argument("--cold-seeds", nargs="+", type=int, default=list(range(8)), help="k-means seeds of the cold runs")
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: labelled data not found at {args.data} (give --data)")
    data = pd.read_csv(args.data, dtype=str).fillna("")
    summary: list[str] = []
    detail: list[str] = []
    kept: dict[str, dict[float, bool]] = {}
    for question in args.questions:
        frame = data[data.question == question].reset_index(drop=True)
        rows = question_rows(question, frame, args.shares, args.seeds, args.cold_seeds)
        summary, detail, kept[question] = summary + rows[0], detail + rows[1], rows[2]
    publish("placement", report(args.data.name, summary, detail, kept, args.shares), write=not args.no_write)


if __name__ == "__main__":
    main()
