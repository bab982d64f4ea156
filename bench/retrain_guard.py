"""How many reviewed units a theme model needs before it is better than nothing: the retrain guard's N and M.

For each question of ../shared/data/elf_dev.csv, 40% of the answers are held out; theme models are trained
(as ``verbatims retrain`` does, on the human themes) on random samples of growing size from the rest, three
seeds each, and scored on the held-out answers. Two curves:

- per theme: its held-out F1 against how many units of it the model saw, beside the F1 of saying "yes" to
  every answer (2p/(1+p) for a theme on a share p of the answers: what a model that cannot tell is worth);
- per sample: macro- and weighted-F1 and the largest error on a theme's share (points) against the total
  reviewed, beside the machine's clustering (each cluster named after the commonest human theme of its
  sampled answers: what a reviewer has without a model) and a majority baseline (every answer in the
  sample's commonest theme).

    .venv/bin/python bench/retrain_guard.py [--questions FI8 FI7 DC13] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysis  # noqa: E402
from pipeline.clean import lemmatize, normalize  # noqa: E402
from pipeline.records import IdeaUnit  # noqa: E402
from review.train import ThemeClassifier, macro_f1  # noqa: E402

SIZES = (10, 20, 30, 50, 75, 100, 150, 200, 300)
SEEDS = (1, 2, 3)
HELD_OUT = 0.4
# A theme counts as learnt once more than this share of themes with as many units beat answering yes to all:
# at 4 units half do (50%, a fifth score 0), at 5–6 two-thirds (66%, 13% score 0) (bench/RESULTS.md).
CLEAR_MAJORITY = 0.6
# A model's largest share error at most this many times the reviewed sample's own: from 50 units on every
# question stays at 0.9–1.45×, at 10–30 units it is 1.5–1.9× (bench/RESULTS.md, "retrain_guard").
SHARE_ERROR_RATIO = 1.5
# Bins of "units of this theme the model saw" for the per-theme curve: (low, high) inclusive.
BINS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 9), (10, 14), (15, 24), (25, 10_000))


@dataclass
class Question:
    name: str
    vectors: np.ndarray
    lemmas: list[str]
    gold: list[list[str]]
    clusters: list[str]  # the machine's theme of each answer


@dataclass
class Sample:
    question: str
    size: int
    macro: float
    weighted: float
    share_error: float  # largest |predicted share - human share| over themes, points
    sample_error: float  # the same, taking the reviewed sample's own shares for the held-out answers' (no model)
    clustering: float
    majority: float


def load(frame: pd.DataFrame, analysis: Analysis) -> Question:
    texts = [normalize(t) for t in frame.text]
    lemmas = lemmatize(texts)
    vectors, _ = analysis.embed(texts)
    units = [IdeaUnit(i, i, t, lem) for i, t, lem in zip(frame.id, texts, lemmas, strict=True)]
    found = analysis.find_themes(units, vectors)
    theme_of = {a.unit_id: a.theme_id for a in found.assignments}
    clusters = [theme_of.get(u.unit_id, "") for u in units]
    return Question(frame.question.iloc[0], vectors, lemmas, [s.split("; ") for s in frame.labels], clusters)


def weighted_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    binarizer = MultiLabelBinarizer().fit(gold)
    known = set(binarizer.classes_)
    y_pred = binarizer.transform([[t for t in p if t in known] for p in predicted])
    return float(f1_score(binarizer.transform(gold), y_pred, average="weighted", zero_division=0))


def shares(label_sets: list[list[str]]) -> Counter:
    counts = Counter(t for ls in label_sets for t in set(ls))
    return Counter({t: n / len(label_sets) for t, n in counts.items()})


def by_clusters(q: Question, train: list[int], held: list[int]) -> list[list[str]]:
    """Each cluster named after the commonest human theme of its sampled answers; unnamed clusters say nothing."""
    votes: dict[str, Counter] = {}
    for i in train:
        votes.setdefault(q.clusters[i], Counter()).update(q.gold[i])
    names = {c: v.most_common(1)[0][0] for c, v in votes.items()}
    return [[names[q.clusters[i]]] if q.clusters[i] in names else [] for i in held]


def score(q: Question, train: list[int], held: list[int]) -> tuple[Sample, list[tuple[int, float, float]]]:
    """One trained model: the sample's figures, and (units seen, held-out F1, always-yes F1) per theme."""
    gold_train, gold_held = [q.gold[i] for i in train], [q.gold[i] for i in held]
    model = ThemeClassifier().fit(q.vectors[train], [q.lemmas[i] for i in train], gold_train, q.lemmas)
    predicted = model.predict(q.vectors[held], [q.lemmas[i] for i in held])
    seen = Counter(t for ls in gold_train for t in set(ls))
    truth, guess = shares(gold_held), shares(predicted)
    themes: list[tuple[int, float, float]] = []
    for theme in model.classes_:
        y = np.array([theme in ls for ls in gold_held])
        if not y.any():
            continue
        f1 = f1_score(y, np.array([theme in ls for ls in predicted]), zero_division=0)
        themes.append((seen[theme], float(f1), 2 * y.mean() / (1 + y.mean())))
    commonest = seen.most_common(1)[0][0]
    sample = Sample(
        q.name,
        len(train),
        macro_f1(gold_held, predicted),
        weighted_f1(gold_held, predicted),
        100 * max(abs(guess[t] - truth[t]) for t in {*truth, *guess}),
        100 * max(abs(shares(gold_train)[t] - truth[t]) for t in {*truth, *seen}),
        macro_f1(gold_held, by_clusters(q, train, held)),
        macro_f1(gold_held, [[commonest]] * len(held)),
    )
    return sample, themes


def run_question(q: Question) -> tuple[list[Sample], list[tuple[int, float, float]]]:
    order = random.Random(0).sample(range(len(q.gold)), len(q.gold))
    cut = int(HELD_OUT * len(order))
    held, pool = sorted(order[:cut]), order[cut:]
    samples, themes = [], []
    for size in (s for s in SIZES if s <= len(pool)):
        for seed in SEEDS:
            train = random.Random(seed).sample(pool, size)
            if len({t for i in train for t in q.gold[i]}) < 2:
                continue
            sample, per_theme = score(q, train, held)
            samples.append(sample)
            themes.extend(per_theme)
        print(f"{q.name}: {size} reviewed done", flush=True)
    return samples, themes


def theme_table(themes: list[tuple[int, float, float]]) -> list[str]:
    lines = [
        "| units of the theme seen | themes × samples | median held-out F1 | median always-yes F1 "
        "| beat always-yes | F1 = 0 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for low, high in BINS:
        rows = [(f1, base) for n, f1, base in themes if low <= n <= high]
        if not rows:
            continue
        f1s, bases = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
        label = str(low) if low == high else (f"{low}–{high}" if high < 10_000 else f"{low}+")
        lines.append(
            f"| {label} | {len(rows)} | {np.median(f1s):.2f} | {np.median(bases):.2f} | "
            f"{np.mean(f1s > bases):.0%} | {np.mean(f1s == 0):.0%} |"
        )
    return lines


def sample_table(samples: list[Sample]) -> list[str]:
    lines = [
        "| question | reviewed | macro-F1 | weighted-F1 | largest share error (pts) | clustering macro-F1 "
        "| reviewed sample's own shares: largest error (pts) | majority macro-F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = sorted({(s.question, s.size) for s in samples}, key=lambda k: (k[0], k[1]))
    for question, size in keys:
        rows = [s for s in samples if (s.question, s.size) == (question, size)]

        def mean(attr: str, rows=rows) -> float:
            return float(np.mean([getattr(s, attr) for s in rows]))

        lines.append(
            f"| {question} | {size} | {mean('macro'):.3f} | {mean('weighted'):.3f} | {mean('share_error'):.1f} | "
            f"{mean('clustering'):.3f} | {mean('sample_error'):.1f} | {mean('majority'):.3f} |"
        )
    return lines


def pick_n(themes: list[tuple[int, float, float]]) -> int | None:
    """The fewest units of a theme from which, in every bin at or above, a clear majority of themes beat
    answering yes to all."""
    good = []
    for low, high in BINS:
        rows = [(f1, base) for n, f1, base in themes if low <= n <= high]
        if rows:
            good.append((low, float(np.mean([f1 > base for f1, base in rows])) > CLEAR_MAJORITY))
    return next((low for i, (low, _) in enumerate(good) if all(ok for _, ok in good[i:])), None)


def pick_m(samples: list[Sample]) -> int | None:
    """The fewest reviewed units from which, on every question and every larger sample, the model's largest
    share error is within ``SHARE_ERROR_RATIO`` times that of taking the reviewed sample's own shares (a model
    far above that misleads more than the reviews alone) and its macro-F1 beats the named clusters."""
    worst = 0
    for question in {s.question for s in samples}:
        sizes = sorted({s.size for s in samples if s.question == question})

        def ok(size: int, question=question) -> bool:
            rows = [s for s in samples if (s.question, s.size) == (question, size)]
            model, sample = np.mean([s.share_error for s in rows]), np.mean([s.sample_error for s in rows])
            within = model <= SHARE_ERROR_RATIO * sample
            return within and np.mean([s.macro for s in rows]) > np.mean([s.clustering for s in rows])

        first = next((size for i, size in enumerate(sizes) if all(ok(z) for z in sizes[i:])), None)
        if first is None:
            return None
        worst = max(worst, first)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    data = pd.read_csv(args.data, dtype=str)
    analysis = Analysis()
    samples, themes = [], []
    for name in args.questions:
        q = load(data[data.question == name].reset_index(drop=True), analysis)
        found = run_question(q)
        samples += found[0]
        themes += found[1]
    body = "\n".join(
        [
            "## Retrain guard (`bench/retrain_guard.py`)",
            "",
            f"Answers of `{args.data.name}` ({', '.join(args.questions)}), 40% held out per question; theme models "
            "trained as `verbatims retrain` does on random samples of the rest (3 seeds per size) and scored on the "
            "held-out answers. Per theme: its held-out F1 by how many of its units the model saw, against the F1 "
            "of answering yes for every answer (2p/(1+p)). Per sample (mean of 3 seeds): macro- and weighted-F1, "
            "the largest error on a theme's share, and two baselines without a model: the machine's clusters "
            "each named after the commonest human theme of its sampled answers, and every answer in the "
            "sample's commonest theme.",
            "",
            *theme_table(themes),
            "",
            *sample_table(samples),
            "",
            f"Fewest units of a theme from which, in every bin above, more than {CLEAR_MAJORITY:.0%} of themes beat "
            f"answering yes to all: {pick_n(themes)}. Fewest reviewed units from which, on every question and "
            f"every larger sample, the model's largest share error is within {SHARE_ERROR_RATIO}× the reviewed "
            f"sample's own shares' and its macro-F1 beats the named clusters: {pick_m(samples)}. No sample "
            "size makes the model's share error lower than the sample's own on every question (it stays 0.9–1.45× "
            "from 50 units on, the classifier's own bias); below 50 it is 1.5–1.9×, 21–51 points.",
        ]
    )
    publish("retrain_guard", body, write=not args.no_write)


if __name__ == "__main__":
    main()
