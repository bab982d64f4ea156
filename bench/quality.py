"""Our themes against human coding on real answers (../shared/data/elf_dev.csv), next to plain BERTopic.

For each question, two tables from the same run.

Clustering scores: NMI and ARI against the human theme on single-label answers, and per-theme F1 on all
answers (an answer may carry several human themes and, once split into idea units, several of ours). Our
themes and BERTopic topics are mapped to the human theme most of their answers carry.

Issue 15's measures, of what a coder would sign (``coding_measures``):

- recovery F1: for each human theme carried by at least 5% of the answers, the best answer-level F1 of any
  machine code or net (an answer carries a code when one of its idea units does, a net when it carries one
  of the net's codes); the mean over those human themes;
- rank rho: Spearman correlation between those human themes' shares of answers and the shares of the
  machine themes that matched them best;
- respondents in bags: share of answers in a code whose answers agree on no human theme (the most common
  one covers under 35% of them), each answer counted once;
- keyword-list labels: labels of codes and nets that ``pipeline.labels.label_problems`` flags.

The explicit catch-all ("Autres"; BERTopic's outlier topic -1) is no machine theme here: it matches no human
theme and counts in no bag; its label is judged with the others. BERTopic's labels are its default topic names.

    .venv/bin/python bench/quality.py [--data ../shared/data/elf_dev.csv] [--questions FI8 FI7 DC13] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from pipeline.embed import embed, load_embedder  # noqa: E402
from pipeline.labels import label_problems  # noqa: E402
from pipeline.records import OTHER_ID, Dataset, Response  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "elf_dev.csv"
EXCLUDED = "(set aside)"
MIN_THEME_ANSWERS = 10  # macro-F1 over human themes carried by at least this many answers
MIN_THEME_SHARE = 0.05  # issue 15: recovery and rank over human themes carried by at least 5% of the answers
BAG_COVERAGE = 0.35  # a code is a bag when its most common human theme covers under 35% of its answers


@dataclass
class Prediction:
    """One method's coding of a question's answers, as a coder's code frame: codes, and nets over them."""

    themes: dict[str, list[str]]  # answer id -> code ids, in the order of its idea units (first = the longest)
    labels: dict[str, str]  # code id -> label
    nets: dict[str, str] = field(default_factory=dict)  # code id -> net id, for codes in a net of several
    net_labels: dict[str, str] = field(default_factory=dict)  # net id -> label
    catch_all: str = OTHER_ID
    catch_all_label: str = ""  # shown to the user like any label, so judged (and counted) with them


def prediction(analysed: Analysed) -> Prediction:
    """Codes and nets of one of our runs, keyed by respondent id."""
    unit_themes: dict[str, list[str]] = defaultdict(list)  # a unit's own code first, then its label codes
    for a in analysed.clustered.assignments:
        unit_themes[a.unit_id].append(a.theme_id)
    pairs: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for unit in analysed.cleaned.units:
        for n, theme in enumerate(unit_themes[unit.unit_id]):
            pairs[unit.respondent_id].append((n, -len(unit.lemmas.split()), theme))
    themes = {rid: list(dict.fromkeys(theme for *_, theme in sorted(p))) for rid, p in pairs.items()}
    codes = [t for t in analysed.themes if t.theme_id != OTHER_ID]
    size = Counter(t.net_id for t in codes if t.net_id)
    in_nets = [t for t in codes if size[t.net_id] > 1]  # a code alone is its own net: nothing to add
    return Prediction(
        themes,
        {t.theme_id: t.label for t in codes},
        {t.theme_id: t.net_id for t in in_nets},
        {t.net_id: t.net_label for t in in_nets},
        catch_all_label=next((t.label for t in analysed.themes if t.theme_id == OTHER_ID), ""),
    )


def ours(frame: pd.DataFrame) -> Prediction:
    dataset = Dataset([Response(i, t) for i, t in zip(frame.id, frame.text, strict=True)], "text", "id", [], [], "")
    return prediction(Analysis().run(dataset))


def bertopic_defaults(frame: pd.DataFrame, embedder_name: str) -> Prediction:
    from bertopic import BERTopic

    vectors, _ = embed(frame.text.tolist(), load_embedder(embedder_name))
    model = BERTopic(language="multilingual")
    topics, _ = model.fit_transform(frame.text.tolist(), embeddings=vectors)
    names = {str(t): name for t, name in model.topic_labels_.items()}  # e.g. "0_impôts_les_de_la"
    outliers = names.pop("-1", "")
    themes = {rid: [str(t)] for rid, t in zip(frame.id, topics, strict=True)}
    return Prediction(themes, names, catch_all="-1", catch_all_label=outliers)


def gold_of(frame: pd.DataFrame) -> dict[str, set[str]]:
    """Answer id -> its human themes."""
    return {rid: set(labels.split("; ")) - {""} for rid, labels in zip(frame.id, frame.labels, strict=True)}


def score(frame: pd.DataFrame, predicted: dict[str, list[str]]) -> dict[str, float]:
    gold = gold_of(frame)
    primary = {rid: predicted.get(rid, [EXCLUDED])[0] for rid in frame.id}
    single = frame[~frame.labels.str.contains(";")]
    y_true = single.label.tolist()
    y_pred = [primary[rid] for rid in single.id]
    # each predicted theme stands for the human theme most of its answers carry
    votes: dict[str, Counter] = defaultdict(Counter)
    for rid, themes in predicted.items():
        for theme in set(themes):
            votes[theme].update(sorted(gold[rid]))  # sorted: a tie goes the same way in every process
    mapped = {theme: counts.most_common(1)[0][0] for theme, counts in votes.items()}
    tp, fp, fn = Counter(), Counter(), Counter()
    for rid in frame.id:
        truth = gold[rid]
        guess = {mapped[t] for t in predicted.get(rid, []) if t in mapped}
        for label in guess & truth:
            tp[label] += 1
        for label in guess - truth:
            fp[label] += 1
        for label in truth - guess:
            fn[label] += 1
    support = Counter(label for labels in gold.values() for label in labels)
    f1 = [2 * tp[t] / (2 * tp[t] + fp[t] + fn[t]) for t, n in support.items() if n >= MIN_THEME_ANSWERS]
    n_topics = len({t for themes in predicted.values() for t in themes})
    return {
        "topics": n_topics,
        "nmi": normalized_mutual_info_score(y_true, y_pred),
        "ari": adjusted_rand_score(y_true, y_pred),
        "macro_f1": float(np.mean(f1)),
    }


def carriers(predicted: Prediction, nets: bool = True) -> dict[str, set[str]]:
    """Machine theme -> the answers carrying it: each code and, unless told not to, each net of several codes."""
    carried: dict[str, set[str]] = defaultdict(set)
    for rid, codes in predicted.themes.items():
        for code in codes:
            if code == predicted.catch_all:
                continue
            carried[code].add(rid)
            if nets and code in predicted.nets:
                carried[predicted.nets[code]].add(rid)
    return carried


def majority(answers: set[str], gold: dict[str, set[str]]) -> tuple[str, float]:
    """The human theme most of these answers carry, and the share of them that carry it."""
    counts = Counter(theme for rid in answers for theme in gold.get(rid, ()))
    if not answers or not counts:
        return "", 0.0
    theme, n = counts.most_common(1)[0]
    return theme, n / len(answers)


def best_matches(gold: dict[str, set[str]], carried: dict[str, set[str]]) -> list[tuple[str, float, float, float]]:
    """For each human theme carried by at least 5% of the answers: (theme, best F1, its share, the best's share)."""
    answers_of: dict[str, set[str]] = defaultdict(set)
    for rid, themes in gold.items():
        for theme in themes:
            answers_of[theme].add(rid)
    n, rows = len(gold), []
    for theme, answers in sorted(answers_of.items()):
        if len(answers) < MIN_THEME_SHARE * n:
            continue
        f1s = [(2 * len(answers & got) / (len(answers) + len(got)), machine) for machine, got in carried.items()]
        f1, machine = max(f1s, default=(0.0, ""))
        rows.append((theme, f1, len(answers) / n, len(carried.get(machine, ())) / n))
    return rows


def coding_measures(frame: pd.DataFrame, predicted: Prediction) -> dict[str, float]:
    """Issue 15's measures of one method's coding of one question (see the module's docstring)."""
    gold = gold_of(frame)
    rows = best_matches(gold, carriers(predicted))
    human, machine = [r[2] for r in rows], [r[3] for r in rows]
    rho = spearmanr(human, machine).statistic if len(rows) > 1 else float("nan")
    in_bags: set[str] = set()
    for answers in carriers(predicted, nets=False).values():
        if majority(answers, gold)[1] < BAG_COVERAGE:
            in_bags |= answers
    labels = [*predicted.labels.values(), *predicted.net_labels.values(), predicted.catch_all_label]
    labels = [label for label in labels if label]
    return {
        "human_themes": len(rows),
        "codes": len(predicted.labels),
        "nets": len(predicted.net_labels),
        "recovery_f1": float(np.mean([r[1] for r in rows])) if rows else float("nan"),
        "rank_rho": float(rho),
        "bags": len(in_bags) / len(frame),
        "keyword_labels": sum(bool(label_problems(label)) for label in labels),
        "labels": len(labels),
    }


CLUSTERING_TABLE = [
    "| question | answers (single-label) | human themes | method | topics | NMI | ARI | macro-F1 | time (s) |",
    "|---|---:|---:|---|---:|---:|---:|---:|---:|",
]
CODING_TABLE = [
    "| question | human themes ≥ 5% | method | codes | nets | recovery F1 | rank ρ | respondents in bags "
    "| keyword-list labels |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|",
]


def question_rows(question: str, frame: pd.DataFrame, methods: dict) -> tuple[list[str], list[str]]:
    """One question's rows of both tables, a row per method."""
    n_single = int((~frame.labels.str.contains(";")).sum())
    n_themes = frame.labels.str.split("; ").explode().nunique()
    clustering, coding = [], []
    for name, method in methods.items():
        start = time.perf_counter()
        predicted = method(frame)
        elapsed = time.perf_counter() - start
        s, m = score(frame, predicted.themes), coding_measures(frame, predicted)
        rho = "n/a" if np.isnan(m["rank_rho"]) else f"{m['rank_rho']:.2f}"  # n/a: the matches' shares are all equal
        clustering.append(
            f"| {question} | {len(frame)} ({n_single}) | {n_themes} | {name} | {s['topics']} | "
            f"{s['nmi']:.3f} | {s['ari']:.3f} | {s['macro_f1']:.3f} | {elapsed:.0f} |"
        )
        coding.append(
            f"| {question} | {m['human_themes']} | {name} | {m['codes']} | {m['nets']} | {m['recovery_f1']:.2f} | "
            f"{rho} | {m['bags']:.0%} | {m['keyword_labels']}/{m['labels']} |"
        )
        print(clustering[-1], coding[-1], sep="\n", flush=True)
    return clustering, coding


def report(data_name: str, clustering: list[str], coding: list[str]) -> str:
    return "\n".join(
        [
            "## Quality against human coding (`bench/quality.py`)",
            "",
            f"Data: `{data_name}`, one question at a time. NMI and ARI on single-label answers (answers we set "
            "aside count as one extra cluster); macro-F1 over human themes carried by at least "
            f"{MIN_THEME_ANSWERS} answers, on all answers, each predicted theme mapped to its majority human theme. "
            "Times include embedding only where the cache was cold.",
            "",
            *CLUSTERING_TABLE,
            *clustering,
            "",
            "What a coder would sign (issue 15), same runs: recovery F1 is the mean, over human themes carried by at "
            f"least {MIN_THEME_SHARE:.0%} of the answers, of the best answer-level F1 of any code or net; rank ρ the "
            "Spearman correlation of those themes' shares with their best matches' shares; respondents in bags the "
            f"answers in codes whose most common human theme covers under {BAG_COVERAGE:.0%} of them; keyword-list "
            "labels the code and net labels `pipeline.labels.label_problems` flags (BERTopic's: its default topic "
            'names). "Autres" and BERTopic\'s outlier topic are no theme here, but their labels are judged. Nets: those of '
            "several codes.",
            "",
            *CODING_TABLE,
            *coding,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: labelled data not found at {args.data} (give --data)")
    data = pd.read_csv(args.data, dtype=str).fillna("")
    methods = {
        "verbatims (ours)": ours,
        "BERTopic defaults + USE": lambda f: bertopic_defaults(f, "use-multilingual"),
        "BERTopic defaults + all-MiniLM-L6-v2": lambda f: bertopic_defaults(f, "minilm"),
    }
    clustering, coding = [], []
    for question in args.questions:
        rows = question_rows(question, data[data.question == question].reset_index(drop=True), methods)
        clustering += rows[0]
        coding += rows[1]
    publish("quality", report(args.data.name, clustering, coding), write=not args.no_write)


if __name__ == "__main__":
    main()
