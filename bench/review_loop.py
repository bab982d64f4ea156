"""Does the review queue make a few corrections count, and how good is the theme model after them?

For each question of ../shared/data/elf_dev.csv (one unit per answer, the human theme sets as gold): the
answers are analysed and recorded in a scratch review store; a simulated reviewer gives the human themes to
25, 50, 100, 200, 300 and 400 answers (a budget above 60% of the question's answers is replaced by that 60%, so
at least 40% stay unreviewed to score on), either asking the review queue for one item per machine theme at a
time and correcting them in the store (so the queue learns from each session, as it does for a real
reviewer), or picking answers at random (3 seeds). A theme model is trained on the reviewed answers as
``verbatims retrain`` does (review.train.ThemeClassifier, the question's code names as codebook examples)
and scored on the answers nobody reviewed:

- micro-F1: every (answer, theme) decision of every human theme of the question pooled;
- weighted-F1: per-theme F1 averaged with each theme's number of scored answers as its weight, over the
  themes carried by at least 10 of the question's answers (the measure commercial coding tools show; two
  human coders score 0.70 to 0.80 on it);
- macro-F1: the plain mean of the same themes' F1.

Anchor in the same run, on the same random picks: plain logistic regression on the USE vectors
(scikit-learn's defaults, one-vs-rest, best theme plus any at 0.5 or more, no codebook examples).
Corrections: what the reviewer does to an answer, a move to its first human theme then an add per further
one, summed over the answers reviewed. The queue is "ahead in corrections" at a budget when, after as many
corrections as random's answers took (the queue's answers up to that count), its weighted-F1 beats random's.

    .venv/bin/python bench/review_loop.py [--questions FI8 FI7 DC13] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from pipeline.clean import lemmatize, normalize  # noqa: E402
from pipeline.embed import embed, load_embedder  # noqa: E402
from pipeline.records import CleanResult, Dataset, IdeaUnit, Response  # noqa: E402
from review.corrections import ReviewError, correct  # noqa: E402
from review.queue import review_queue  # noqa: E402
from review.runs import RunRecord, record_run  # noqa: E402
from review.store import Store  # noqa: E402
from review.train import ThemeClassifier, label_sets_from  # noqa: E402

BUDGETS = (25, 50, 100, 200, 300, 400)  # the issue's, and 300 for its must-show
RANDOM_SEEDS = (1, 2, 3)
MAX_REVIEWED_SHARE = 0.6  # leave at least 40% of the answers unreviewed to score on
MIN_THEME_ANSWERS = 10  # weighted- and macro-F1 count the themes carried by at least this many answers
MEASURES = ("micro", "weighted", "macro")
WORKERS = 2  # the machine's cores


@dataclass
class Question:
    """One question's answers, as the model sees them, with their human themes and code names."""

    vectors: np.ndarray
    lemmas: list[str]
    gold: list[list[str]]
    codebook: tuple[np.ndarray, list[str], list[list[str]]]  # each code name as an example of its theme

    def rest(self, reviewed: list[int]) -> list[int]:
        return sorted(set(range(len(self.gold))) - set(reviewed))


def record_machine_run(analysis: Analysis, units: list[IdeaUnit], vectors: np.ndarray, store: Store, name: str):
    """The machine's themes of one unit per answer, ranked and netted, recorded in the store as ``verbatims
    analyze`` records them."""
    result = analysis.find_themes(units, vectors)
    dataset = Dataset([Response(u.respondent_id, u.text) for u in units], "text", "id", [], [], "bench")
    analysed = Analysed(dataset, CleanResult(units, []), result)
    themes = analysis.nets(analysis.rank(result, units, vectors, dataset), result, units, vectors)
    manifest = analysis.manifest(name, Path("elf_dev.csv"), analysed, None, {})
    record_run(store, RunRecord(manifest, dataset, analysed.cleaned, result, analysis.embedder, Path("."), themes=themes))
    return len(result.themes)


class GoldReviewer:
    """Corrects units in the store to their human themes: a theme named after a human code is created on
    first use (move --new), then reused (move --to); further human codes are added (add)."""

    def __init__(self, store: Store, run_id: str):
        self.store, self.run_id, self.theme_of_code = store, run_id, {}

    def review(self, unit_id: str, codes: list[str]) -> None:
        first, *others = codes
        if first in self.theme_of_code:
            self._correct("move", unit=unit_id, to=self.theme_of_code[first])
        else:
            event = self._correct("move", unit=unit_id, label=first)
            self.theme_of_code[first] = event.payload["to"]
        for code in others:
            if code in self.theme_of_code:
                self._correct("add", unit=unit_id, theme=self.theme_of_code[code])

    def _correct(self, action: str, **payload):
        try:
            return correct(self.store, self.run_id, "bench", action, **payload)
        except ReviewError:  # already there (the machine theme was renamed to this code earlier): a confirm
            return correct(self.store, self.run_id, "bench", "confirm", unit=payload["unit"])


def queue_sessions(store: Store, run_id: str, gold: dict[str, list[str]], budget: int, session: int) -> list[str]:
    """A reviewer asking the queue for ``session`` items at a time until ``budget`` items are reviewed."""
    reviewer, reviewed = GoldReviewer(store, run_id), []
    while len(reviewed) < budget:
        _, items = review_queue(store, run_id, limit=min(session, budget - len(reviewed)))
        for item in items:
            reviewer.review(item.unit_id, gold[item.unit_id])
            reviewed.append(item.unit_id)
    return reviewed


def f1_scores(all_gold: list[list[str]], gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Micro-F1 over every human theme; weighted- and macro-F1 over those carried by MIN_THEME_ANSWERS answers
    of the question (the module docstring has the definitions)."""
    carried = Counter(t for themes in all_gold for t in themes)
    binarizer = MultiLabelBinarizer(classes=sorted(carried)).fit([])
    truth = binarizer.transform(gold)
    guess = binarizer.transform([[t for t in p if t in carried] for p in predicted])
    frequent = [j for j, t in enumerate(binarizer.classes_) if carried[t] >= MIN_THEME_ANSWERS]
    return {
        "micro": float(f1_score(truth, guess, average="micro", zero_division=0)),
        "weighted": float(f1_score(truth[:, frequent], guess[:, frequent], average="weighted", zero_division=0)),
        "macro": float(f1_score(truth[:, frequent], guess[:, frequent], average="macro", zero_division=0)),
    }


def f1_after_review(reviewed: list[int], q: Question) -> dict[str, float]:
    """Train as retrain does (reviewed answers' human themes, the codebook's entries as further examples);
    score on the answers nobody reviewed."""
    rest = q.rest(reviewed)
    x = np.vstack([q.vectors[reviewed], q.codebook[0]])
    words = [q.lemmas[i] for i in reviewed] + q.codebook[1]
    labels = [q.gold[i] for i in reviewed] + q.codebook[2]
    model = ThemeClassifier().fit(x, words, labels, q.lemmas)
    return f1_scores(q.gold, [q.gold[i] for i in rest], model.predict(q.vectors[rest], [q.lemmas[i] for i in rest]))


def plain_use_f1(reviewed: list[int], q: Question) -> float:
    """The anchor's weighted-F1: scikit-learn's logistic regression, defaults, one-vs-rest on USE alone."""
    rest = q.rest(reviewed)
    binarizer = MultiLabelBinarizer().fit([q.gold[i] for i in reviewed])
    model = OneVsRestClassifier(LogisticRegression(max_iter=2000))
    model.fit(q.vectors[reviewed], binarizer.transform([q.gold[i] for i in reviewed]))
    predicted = label_sets_from(model.predict_proba(q.vectors[rest]), list(binarizer.classes_))
    return f1_scores(q.gold, [q.gold[i] for i in rest], predicted)["weighted"]


def corrections(picked: list[int], gold: list[list[str]]) -> int:
    """What the reviewer did to these answers: a move, then an add per further human theme, on each."""
    return sum(len(gold[i]) for i in picked)


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m: float(np.mean([r[m] for r in rows])) for m in MEASURES}


def prepare(frame: pd.DataFrame, analysis: Analysis, store: Store) -> tuple[Question, list[IdeaUnit], int]:
    question = frame.question.iloc[0]
    texts = [normalize(t) for t in frame.text]
    lemmas = lemmatize(texts)
    units = [IdeaUnit(i, i, t, lem) for i, t, lem in zip(frame.id, texts, lemmas, strict=True)]
    vectors, _ = analysis.embed(texts)
    gold = [labels.split("; ") for labels in frame.labels]
    names = sorted({t for themes in gold for t in themes})
    codebook = (embed(names, load_embedder(analysis.embedder))[0], lemmatize(names), [[t] for t in names])
    n_themes = record_machine_run(analysis, units, vectors, store, question)
    return Question(vectors, lemmas, gold, codebook), units, n_themes


def run_question(frame: pd.DataFrame, store: Store) -> list[dict]:
    """Scores after each budget: the queue's picks, random picks (mean of 3) and the anchor on random picks."""
    question = frame.question.iloc[0]
    q, units, n_themes = prepare(frame, Analysis(), store)
    cap = int(MAX_REVIEWED_SHARE * len(units))
    budgets = sorted({min(b, cap) for b in BUDGETS})
    position = {u.unit_id: i for i, u in enumerate(units)}
    by_queue = [
        position[u] for u in queue_sessions(store, question, dict(zip(frame.id, q.gold, strict=True)), budgets[-1], n_themes)
    ]
    by_chance = [random.Random(seed).sample(range(len(units)), budgets[-1]) for seed in RANDOM_SEEDS]
    spent = np.cumsum([len(q.gold[i]) for i in by_queue])
    rows = []
    for n in budgets:
        chance_corrections = float(np.mean([corrections(p[:n], q.gold) for p in by_chance]))
        same_effort = max(1, int(np.searchsorted(spent, chance_corrections, side="right")))
        row = {
            "reviewed": n,
            "queue": f1_after_review(by_queue[:n], q),
            "random": _mean([f1_after_review(p[:n], q) for p in by_chance]),
            "plain": float(np.mean([plain_use_f1(p[:n], q) for p in by_chance])),
            "corrections": (corrections(by_queue[:n], q.gold), chance_corrections),
            "same_effort": (same_effort, f1_after_review(by_queue[:same_effort], q)["weighted"]),
        }
        rows.append(row)
        weighted = row["queue"]["weighted"], row["random"]["weighted"]
        print(f"{question} {n}: weighted-F1 queue {weighted[0]:.3f}, random {weighted[1]:.3f}", flush=True)
    return rows


def question_rows(frame: pd.DataFrame) -> list[dict]:
    """run_question in a scratch store of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        return run_question(frame, Store(str(Path(tmp) / "bench.sqlite")))


def table_lines(question: str, answers: int, rows: list[dict]) -> list[str]:
    lines = []
    for r in rows:
        queue, chance = r["queue"], r["random"]
        lines.append(
            f"| {question} | {answers} | {r['reviewed']} | "
            + " | ".join(f"{queue[m]:.3f} / {chance[m]:.3f}" for m in MEASURES)
            + f" | {r['plain']:.3f} | {r['corrections'][0]} / {r['corrections'][1]:.0f} | "
            f"{r['same_effort'][0]}: {r['same_effort'][1]:.3f} |"
        )
    return lines


def verdicts(question: str, rows: list[dict]) -> list[str]:
    """The issue's must-shows, as measured: weighted-F1 bars (random picks) and the queue's lead at 50 and 100."""
    out = []
    for n, bar in ((100, 0.57), (300, 0.63)):
        row = max((r for r in rows if r["reviewed"] <= n), key=lambda r: r["reviewed"])
        met = row["random"]["weighted"] >= bar
        out.append(
            f"- {question}: weighted-F1 {row['random']['weighted']:.3f} with random picks (the queue's picks: "
            f"{row['queue']['weighted']:.3f}) after {row['reviewed']} reviewed answers, bar {bar} after {n}: "
            f"**{'met' if met else 'not met'}** with random picks."
        )
    for r in (r for r in rows if r["reviewed"] in (50, 100)):
        in_answers = r["queue"]["weighted"] > r["random"]["weighted"]
        in_corrections = r["same_effort"][1] > r["random"]["weighted"]
        out.append(
            f"- {question}, {r['reviewed']} answers: the queue is {'ahead of' if in_answers else 'not ahead of'} "
            f"random in answers ({r['queue']['weighted']:.3f} / {r['random']['weighted']:.3f}) and "
            f"{'ahead' if in_corrections else 'not ahead'} in corrections ({r['same_effort'][1]:.3f} after "
            f"{r['same_effort'][0]} answers, the {r['corrections'][1]:.0f} corrections random's answers took)."
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    data = pd.read_csv(args.data, dtype=str)
    lines = [
        "| question | answers | reviewed | micro-F1, queue / random | weighted-F1, queue / random "
        "| macro-F1, queue / random | plain LR on USE, weighted-F1 (random) | corrections, queue / random "
        "| queue at random's corrections: answers: weighted-F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    checks = []
    frames = [data[data.question == question].reset_index(drop=True) for question in args.questions]
    # one question per worker, FI8 first: it alone takes about as long as the two others
    with ProcessPoolExecutor(WORKERS, mp_context=get_context("spawn")) as pool:
        for question, frame, rows in zip(args.questions, frames, pool.map(question_rows, frames), strict=True):
            lines += table_lines(question, len(frame), rows)
            checks += verdicts(question, rows)
    body = "\n".join(
        [
            "## Review loop (`bench/review_loop.py`)",
            "",
            f"Answers of `{args.data.name}`, one unit per answer, their human theme sets as gold. A simulated "
            "reviewer gives the human themes to answers picked by the review queue (one item per machine theme "
            "at a time, corrections saved in the store between sessions, so the queue learns from them) or at "
            "random (mean of seeds 1, 2, 3); the theme model (`review.train.ThemeClassifier`, as `verbatims "
            "retrain`, the question's code names as codebook examples) is trained on them and scored on the "
            "answers nobody reviewed. A budget above 60% of a question's answers is replaced by that 60%.",
            "",
            "Measures: micro-F1 pools every (answer, theme) decision over all the question's human themes; "
            f"weighted-F1 (the measure commercial coding tools show; two human coders score 0.70 to 0.80 on it) "
            f"averages per-theme F1 weighted by each theme's scored answers, and macro-F1 is their plain mean, "
            f"both over the themes carried by at least {MIN_THEME_ANSWERS} of the question's answers. Anchor: "
            "plain logistic regression on USE (scikit-learn defaults, one-vs-rest, best theme plus any at 0.5), "
            "on the same random picks. Corrections: a move to the first human theme, then an add per further one. "
            "The last column: how many of the queue's answers fit in the corrections random's answers took, and "
            "the queue's weighted-F1 after them. The queue and random picks are each scored on the answers they "
            "left, so the two are not scored on the same answers.",
            "",
            *lines,
            "",
            *checks,
            "",
            "Command: `.venv/bin/python bench/review_loop.py`.",
        ]
    )
    publish("review_loop", body, write=not args.no_write)


if __name__ == "__main__":
    main()
