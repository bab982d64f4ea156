"""Does the review queue make a few corrections count? Simulated reviewers on human-coded answers.

For each question of ../shared/data/elf_dev.csv: the answers are analysed and recorded in a scratch
review store; a simulated reviewer gives the human themes to 5, 10, 20 and 50 items per machine theme,
either asking the review queue for one item per theme at a time and correcting them in the store (so
the queue learns from each session, as it does for a real reviewer), or picking items at random. A
theme model is trained on the reviewed items (as ``verbatims retrain`` does) and scored by macro-F1 on
the items nobody reviewed.

    .venv/bin/python bench/review_loop.py [--questions FI8 FI7 DC13] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from pipeline.clean import lemmatize, normalize  # noqa: E402
from pipeline.records import CleanResult, Dataset, IdeaUnit, Response  # noqa: E402
from review.corrections import ReviewError, correct  # noqa: E402
from review.queue import review_queue  # noqa: E402
from review.runs import RunRecord, record_run  # noqa: E402
from review.store import Store  # noqa: E402
from review.train import ThemeClassifier, macro_f1  # noqa: E402

PER_THEME = (5, 10, 20, 50)
RANDOM_SEEDS = (1, 2, 3)
MAX_REVIEWED_SHARE = 0.6  # leave at least 40% of the answers unreviewed to score on


def record_machine_run(analysis: Analysis, units: list[IdeaUnit], vectors: np.ndarray, store: Store, name: str):
    """The machine's themes of one unit per answer, recorded in the store as ``verbatims analyze`` records them."""
    result = analysis.find_themes(units, vectors)
    dataset = Dataset([Response(u.respondent_id, u.text) for u in units], "text", "id", [], [], "bench")
    analysed = Analysed(dataset, CleanResult(units, []), result)
    manifest = analysis.manifest(name, Path("elf_dev.csv"), analysed, None, {})
    record_run(store, RunRecord(manifest, dataset, analysed.cleaned, result, analysis.embedder, Path(".")))
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


def f1_after_review(reviewed: list[int], vectors, lemmas, gold) -> float:
    """Train as retrain does on the reviewed answers' human themes; score on the answers nobody reviewed."""
    rest = sorted(set(range(len(gold))) - set(reviewed))
    model = ThemeClassifier().fit(vectors[reviewed], [lemmas[i] for i in reviewed], [gold[i] for i in reviewed], lemmas)
    predicted = model.predict(vectors[rest], [lemmas[i] for i in rest])
    return macro_f1([gold[i] for i in rest], predicted)


def items_needed(queue_f1, sessions: range, target: float, step: int) -> int | None:
    """The fewest items after which the queue's F1 reaches ``target``: the first session that does, then,
    as a reviewer works down a session one item at a time, the first ``step``-th item of that session."""
    first = next((m for m in sessions if queue_f1(m) >= target), None)
    if first is None:
        return None
    return next((m for m in range(first - sessions.step + step, first, step) if queue_f1(m) >= target), first)


def _corrections(picked: list[int], gold: list[list[str]]) -> int:
    """What the reviewer did to these items: a move, then an add per further human theme, on each."""
    return sum(len(gold[i]) for i in picked)


def run_question(frame: pd.DataFrame, store: Store) -> tuple[list[dict], int]:
    """F1 after each queue session and after the same number of random picks; one row per budget of PER_THEME."""
    question = frame.question.iloc[0]
    texts = [normalize(t) for t in frame.text]
    lemmas = lemmatize(texts)
    units = [IdeaUnit(i, i, t, lem) for i, t, lem in zip(frame.id, texts, lemmas, strict=True)]
    analysis = Analysis()
    vectors, _ = analysis.embed(texts)
    gold = [labels.split("; ") for labels in frame.labels]
    position = {u.unit_id: i for i, u in enumerate(units)}
    n_themes = record_machine_run(analysis, units, vectors, store, question)
    budget = min(max(PER_THEME) * n_themes, int(MAX_REVIEWED_SHARE * len(units)))
    by_queue = [
        position[u]
        for u in queue_sessions(store, question, dict(zip(frame.id, gold, strict=True)), budget, session=n_themes)
    ]
    by_chance = [random.Random(seed).sample(range(len(units)), budget) for seed in RANDOM_SEEDS]
    sessions = range(n_themes, budget + 1, n_themes)
    queue_curve = {n: f1_after_review(by_queue[:n], vectors, lemmas, gold) for n in sessions}

    def queue_f1(m: int) -> float:
        if m not in queue_curve:
            queue_curve[m] = f1_after_review(by_queue[:m], vectors, lemmas, gold)
        return queue_curve[m]

    random_curve = {n: float(np.mean([f1_after_review(p[:n], vectors, lemmas, gold) for p in by_chance])) for n in sessions}
    rows = []
    for per_theme in PER_THEME:
        n = per_theme * n_themes
        if n > budget:
            break
        needed = items_needed(queue_f1, sessions, random_curve[n], step=max(1, n_themes // 5))
        corrections = (
            _corrections(by_queue[:needed], gold) if needed else None,
            float(np.mean([_corrections(p[:n], gold) for p in by_chance])),
        )
        rows.append(
            {
                "per_theme": per_theme,
                "reviewed": n,
                "queue": queue_curve[n],
                "random": random_curve[n],
                "queue_needed": needed,
                "corrections": corrections,
            }
        )
        print(
            f"{question}: {per_theme}/theme ({n} items): queue {queue_curve[n]:.3f}, random {random_curve[n]:.3f}; "
            f"the queue reaches random's F1 after {needed} items",
            flush=True,
        )
    return rows, n_themes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    data = pd.read_csv(args.data, dtype=str)
    lines = [
        "| question | answers | machine themes | items per theme | items reviewed | macro-F1, queue "
        "| macro-F1, random (mean of 3) | items the queue needs for random's F1 | corrections for that F1, queue / random |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reach = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "bench.sqlite"))
        for question in args.questions:
            frame = data[data.question == question].reset_index(drop=True)
            rows, n_themes = run_question(frame, store)
            for r in rows:
                lines.append(
                    f"| {question} | {len(frame)} | {n_themes} | {r['per_theme']} | {r['reviewed']} | "
                    f"{r['queue']:.3f} | {r['random']:.3f} | {r['queue_needed'] or 'more than ' + str(r['reviewed'])} | "
                    f"{r['corrections'][0] or '-'} / {r['corrections'][1]:.0f} |"
                )
            fewer = sum(1 for r in rows if r["queue_needed"] and r["queue_needed"] < r["reviewed"])
            fewer_corrections = sum(1 for r in rows if r["corrections"][0] and r["corrections"][0] < r["corrections"][1])
            reach.append(
                f"- {question}: the queue needed fewer items than random at {fewer} of {len(rows)} budgets, "
                f"and fewer corrections at {fewer_corrections}."
            )
    body = "\n".join(
        [
            "## Review loop (`bench/review_loop.py`)",
            "",
            f"Answers of `{args.data.name}`, one unit per answer. A simulated reviewer gives the human themes to items "
            "picked by the review queue (asked for one item per machine theme at a time, corrections saved in the "
            "store between sessions, so the queue learns from them) or at random; a theme model is trained on them "
            "(one-vs-rest logistic regression on USE + lemma TF-IDF, as `verbatims retrain`) and scored by "
            "multi-label macro-F1 on the answers nobody reviewed. Budgets stop when more than 60% of the answers "
            "would be reviewed.",
            "",
            *lines,
            "",
            'The queue\'s F1 is measured after each session of one item per machine theme; "items the queue needs" '
            "is the first session at which it matches what random picks reach with that budget, narrowed down "
            "within that session in steps of a fifth of a session (the reviewer works down each session in the "
            "queue's order). The queue leads "
            "with units that say more, and those carry more human themes, so each of its items takes more "
            "corrections (a move, then an add per further theme): the last column counts them, for the queue's "
            "items up to random's F1 and for random's items (mean of 3).",
            "",
            *reach,
        ]
    )
    publish("review_loop", body, write=not args.no_write)


if __name__ == "__main__":
    main()
